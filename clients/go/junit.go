package report

import (
	"encoding/xml"
	"fmt"
	"os"
)

type junitProblem struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *struct{}     `xml:"skipped"`
}

type junitSuite struct {
	Name   string       `xml:"name,attr"`
	Time   float64      `xml:"time,attr"`
	Cases  []junitCase  `xml:"testcase"`
	Suites []junitSuite `xml:"testsuite"`
}

// TestsFromJUnit reads a JUnit XML file (<testsuites> or <testsuite>) into Tests: every
// <testcase> counted, failures, errors and skipped ones by their child element.
func TestsFromJUnit(path string) (Tests, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Tests{}, fmt.Errorf("gbcms report: %w", err)
	}
	var root struct {
		XMLName xml.Name
		junitSuite
	}
	if err := xml.Unmarshal(data, &root); err != nil {
		return Tests{}, fmt.Errorf("gbcms report: %s: not JUnit XML: %w", path, err)
	}
	if root.XMLName.Local != "testsuites" && root.XMLName.Local != "testsuite" {
		return Tests{}, fmt.Errorf("gbcms report: %s: the root element is <%s>, not <testsuites> or <testsuite>", path, root.XMLName.Local)
	}
	t := Tests{Failed: []FailedTest{}}
	seconds := 0.0
	var walk func(suite junitSuite, top bool)
	walk = func(suite junitSuite, top bool) {
		if !top || root.XMLName.Local == "testsuite" {
			seconds += suite.Time
		}
		for _, c := range suite.Cases {
			t.Tests++
			problem := c.Failure
			if problem != nil {
				t.Failures++
			} else if problem = c.Error; problem != nil {
				t.Errors++
			} else if c.Skipped != nil {
				t.Skipped++
			}
			if problem != nil && len(t.Failed) < failedTests {
				name := c.Name
				if name == "" {
					name = "(unnamed)"
				}
				t.Failed = append(t.Failed, FailedTest{
					Suite: clip(suite.Name, textChars), Name: clip(name, textChars), Classname: clip(c.Classname, textChars),
					Message: clip(problem.Message, textChars), Output: clip(problem.Text, failedOutputChars),
				})
			}
		}
		for _, inner := range suite.Suites {
			walk(inner, false)
		}
	}
	walk(root.junitSuite, true)
	if root.XMLName.Local == "testsuites" && root.Time > 0 {
		seconds = root.Time
	}
	t.DurationMs = seconds * 1000
	return t, nil
}
