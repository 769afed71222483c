package report

import (
	"fmt"
	"math"
	"regexp"
	"strings"
)

// The engine's rules (engine/reports/validate.ts), so a report this client sends is never one
// the server refuses.
const (
	nameChars         = 128
	textChars         = 4096
	fileChars         = 1024
	failedTests       = 1000
	failedOutputChars = 64 * 1024
)

var metricName = regexp.MustCompile(`^[A-Za-z0-9_.:/-]+$`)

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func textProblem(field, text string, max int) string {
	if n := len([]rune(text)); n > max {
		return fmt.Sprintf("%s is %d characters long; at most %d", field, n, max)
	}
	return ""
}

func metricProblem(name string, value float64, step *int64) string {
	switch {
	case name == "":
		return "a metric needs a name"
	case len(name) > nameChars:
		return fmt.Sprintf("metric name is %d characters long; at most %d", len(name), nameChars)
	case !metricName.MatchString(name):
		return fmt.Sprintf("metric name '%s' may only hold A-Z a-z 0-9 _ . : / -", name)
	case !finite(value):
		return fmt.Sprintf("metric %s: value must be a finite number", name)
	case step != nil && *step < 0:
		return fmt.Sprintf("metric %s: step must be a whole number >= 0", name)
	}
	return ""
}

func progressProblem(done, total float64, message string) string {
	if !finite(total) || total <= 0 {
		return "progress total must be a number > 0"
	}
	if !finite(done) || done < 0 || done > total {
		return "progress done must be a number from 0 to the total"
	}
	if p := textProblem("progress message", message, textChars); p != "" {
		return p
	}
	if strings.ContainsAny(message, "\r\n") {
		return "progress message must be one line"
	}
	return ""
}

func annotationProblem(a Annotation) string {
	if a.Level != "notice" && a.Level != "warning" && a.Level != "error" {
		return "annotation level must be notice, warning or error"
	}
	if a.Title == "" && a.Message == "" {
		return "an annotation needs a title or a message"
	}
	if p := textProblem("annotation title", a.Title, textChars); p != "" {
		return p
	}
	if p := textProblem("annotation message", a.Message, textChars); p != "" {
		return p
	}
	if p := textProblem("annotation file", a.File, fileChars); p != "" {
		return p
	}
	if a.Line < 0 {
		return "annotation line must be a whole number >= 1"
	}
	return ""
}

func testsProblem(t Tests) string {
	if t.Tests < 0 || t.Failures < 0 || t.Errors < 0 || t.Skipped < 0 {
		return "tests: counts must be whole numbers >= 0"
	}
	if !finite(t.DurationMs) || t.DurationMs < 0 {
		return "tests: duration_ms must be a number >= 0"
	}
	if len(t.Failed) > failedTests {
		return fmt.Sprintf("tests: at most %d failed tests", failedTests)
	}
	return ""
}
