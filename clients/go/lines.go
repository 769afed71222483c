package report

import (
	"regexp"
	"strconv"
	"strings"
)

// The `::gbcms` stdout lines a gbcms step prints to report (engine/reports/format.ts), quoted so
// the engine's parser reads back exactly what was written.

const prefix = "::gbcms "

var (
	needsQuote = regexp.MustCompile(`[ \t\r\n]`)
	escaper    = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
)

func quoted(value string) string { return `"` + escaper.Replace(value) + `"` }

func field(value string) string {
	if value != "" && !needsQuote.MatchString(value) && !strings.HasPrefix(value, `"`) {
		return value
	}
	return quoted(value)
}

func rest(value string) string {
	bare := value != "" && !strings.ContainsAny(value, "\r\n") && !strings.HasPrefix(value, `"`) &&
		strings.Trim(value[:1]+value[len(value)-1:], " \t") == value[:1]+value[len(value)-1:]
	if bare {
		return value
	}
	return quoted(value)
}

func number(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func metricLine(name string, value float64, step *int64) string {
	line := prefix + "metric name=" + name + " value=" + number(value)
	if step != nil {
		line += " step=" + strconv.FormatInt(*step, 10)
	}
	return line
}

func progressLine(done, total float64, message string) string {
	line := prefix + "progress " + number(done) + "/" + number(total)
	if m := strings.Trim(message, " \t"); m != "" {
		line += " " + m
	}
	return line
}

func annotationLine(a Annotation) string {
	parts := []string{prefix + "annotation level=" + a.Level}
	if a.File != "" {
		parts = append(parts, "file="+field(a.File))
	}
	if a.Line > 0 {
		parts = append(parts, "line="+strconv.Itoa(a.Line))
	}
	if a.Title != "" {
		// Unquoted, a title would take the message with it as the rest of the line.
		if a.Message != "" {
			parts = append(parts, "title="+quoted(a.Title))
		} else {
			parts = append(parts, "title="+rest(a.Title))
		}
	}
	if a.Message != "" {
		parts = append(parts, "message="+rest(a.Message))
	}
	return strings.Join(parts, " ")
}
