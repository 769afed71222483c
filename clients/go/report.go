// Package report tracks long-running Go code on a gbcms server: metrics, progress, annotations,
// test results and how it ended, as an external execution. Standard library only.
//
//	r, err := report.New(report.Options{URL: "https://ci.example.com", Token: "gbcmsk_..."})
//	err = report.Track(r, report.StartOptions{Name: "sweep"}, func(r *report.Reporter) error {
//		for i := 0; i < 100; i++ {
//			r.MetricAt("loss", train(i), int64(i))
//		}
//		return nil
//	})
//
// It behaves like the TypeScript createHttpReporter (engine/report/http.ts): reports are stamped
// when made and sent by one goroutine at most every FlushInterval (or as soon as BatchSize
// wait); a 5xx, a 429 or a network error is retried with pauses doubling up to 8 s; heartbeats
// go out while nothing else does, so a quiet computation stays running, and a process that dies
// without finishing is ended `error` by the server after its heartbeat timeout. Reporting never
// fails your code: what cannot be delivered is counted in Lost and told to OnError. Only Finish
// returns an error, when the server could not be told the outcome.
//
// Inside a gbcms step ($GBCMS_STEP is set) reports are printed as `::gbcms` protocol lines
// instead, so the same code works in both places.
package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Options of a Reporter. URL and Token default to $GBCMS_URL and $GBCMS_TOKEN, ProjectID to
// $GBCMS_PROJECT (not needed with a session key, `gbcmsk_...`).
type Options struct {
	URL   string
	Token string
	// The project to create the execution in; not needed with a session key or ExecutionID.
	ProjectID string
	// An external execution created already: report to it.
	ExecutionID string
	// Reports are sent at most this often; default 500 ms.
	FlushInterval time.Duration
	// ...or as soon as this many wait; default 1000 (at most 10,000).
	BatchSize int
	// Tries of a request that met a 5xx, a 429 or a network error, the first included; default 6.
	Attempts int
	// Pause before the first retry, doubled each time up to 8 s; default 250 ms.
	RetryDelay time.Duration
	// Reports kept while the server cannot be reached; past it the oldest are lost. Default 100,000.
	MaxBuffered int
	// Told what could not be delivered; default: one line on stderr per distinct message.
	OnError func(error)
	// Whether to print `::gbcms` lines rather than call a server; default: whether $GBCMS_STEP is set.
	InStep *bool
	// Where lines go in a step; default os.Stdout.
	Out io.Writer
}

// StartOptions of the execution Start creates.
type StartOptions struct {
	// The session to group it in; created on the server on first use.
	Session string
	// The execution's label.
	Name string
	// Seconds without heartbeats or reports before the server ends it as error: 10..86400, default 300.
	HeartbeatTimeout int
}

// Annotation of a file and line, or of the whole execution.
type Annotation struct {
	Level   string `json:"level"` // notice, warning or error
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Title   string `json:"title,omitempty"`
	Message string `json:"message,omitempty"`
}

// FailedTest is one failed or errored test case.
type FailedTest struct {
	Suite     string `json:"suite"`
	Name      string `json:"name"`
	Classname string `json:"classname"`
	Message   string `json:"message"`
	Output    string `json:"output,omitempty"`
}

// Tests are the results of a test run.
type Tests struct {
	Tests      int          `json:"tests"`
	Failures   int          `json:"failures"`
	Errors     int          `json:"errors"`
	Skipped    int          `json:"skipped"`
	DurationMs float64      `json:"duration_ms"`
	Failed     []FailedTest `json:"failed"`
}

// Execution is the server's view of the execution (the fields a reporter needs; Raw has all).
type Execution struct {
	ID               string         `json:"id"`
	ProjectID        string         `json:"project_id"`
	Status           string         `json:"status"`
	Reason           *string        `json:"reason"`
	SessionID        *string        `json:"session_id"`
	Name             *string        `json:"name"`
	HeartbeatTimeout *int           `json:"heartbeat_timeout_s"`
	WebURL           string         `json:"web_url"`
	Raw              map[string]any `json:"-"`
}

// Error is what could not be delivered or was refused; Status and Code when the server answered.
type Error struct {
	Message string
	Status  int
	Code    string
}

func (e *Error) Error() string { return e.Message }

func fail(format string, args ...any) *Error {
	return &Error{Message: "gbcms report: " + fmt.Sprintf(format, args...)}
}

// Reporter reports one execution. Its methods are safe to call from several goroutines.
type Reporter struct {
	inStep     bool
	out        io.Writer
	onError    func(error)
	http       *sender
	outMu      sync.Mutex
	lostInStep int
}

// New makes a Reporter; it returns an error only for missing settings (no URL, no token).
func New(options Options) (*Reporter, error) {
	r := &Reporter{out: options.Out, onError: options.OnError}
	if r.out == nil {
		r.out = os.Stdout
	}
	if r.onError == nil {
		r.onError = stderrOnce()
	}
	_, r.inStep = os.LookupEnv("GBCMS_STEP")
	if options.InStep != nil {
		r.inStep = *options.InStep
	}
	if r.inStep {
		return r, nil
	}
	if options.URL == "" {
		options.URL = os.Getenv("GBCMS_URL")
	}
	if options.Token == "" {
		options.Token = os.Getenv("GBCMS_TOKEN")
	}
	if options.ProjectID == "" {
		options.ProjectID = os.Getenv("GBCMS_PROJECT")
	}
	if options.URL == "" {
		return nil, errors.New("gbcms report: no server URL: set Options.URL or $GBCMS_URL")
	}
	if options.Token == "" {
		return nil, errors.New("gbcms report: no token: set Options.Token (an API token or a session key) or $GBCMS_TOKEN")
	}
	options.OnError = r.onError
	r.http = newSender(options)
	return r, nil
}

// InStep tells whether reports become `::gbcms` lines rather than HTTP requests.
func (r *Reporter) InStep() bool { return r.inStep }

// ExecutionID is the execution's id once known ("" in a step).
func (r *Reporter) ExecutionID() string {
	if r.http == nil {
		return ""
	}
	return r.http.executionID()
}

// Lost counts reports that were refused or could not be delivered.
func (r *Reporter) Lost() int {
	if r.http == nil {
		r.outMu.Lock()
		defer r.outMu.Unlock()
		return r.lostInStep
	}
	return r.http.lostCount()
}

// Start creates the execution (unless Options.ExecutionID was given) and starts heartbeats. It
// returns nil when the server could not be reached or refused (OnError was told; Finish will
// fail), and nil in a step. Reports made before it are kept.
func (r *Reporter) Start(options StartOptions) *Execution {
	if r.http == nil {
		return nil
	}
	return r.http.start(options)
}

// Metric reports a point of metric `name`.
func (r *Reporter) Metric(name string, value float64) { r.metric(name, value, nil) }

// MetricAt reports a point of metric `name` at `step` (a training step, epoch or iteration, >= 0).
func (r *Reporter) MetricAt(name string, value float64, step int64) { r.metric(name, value, &step) }

func (r *Reporter) metric(name string, value float64, step *int64) {
	if p := metricProblem(name, value, step); p != "" {
		r.lose(p)
		return
	}
	if r.http == nil {
		r.line(metricLine(name, value, step))
		return
	}
	item := map[string]any{"type": "metric", "name": name, "value": value}
	if step != nil {
		item["step"] = *step
	}
	r.http.add(item)
}

// Progress reports how far along the work is; message may be "".
func (r *Reporter) Progress(done, total float64, message string) {
	if p := progressProblem(done, total, message); p != "" {
		r.lose(p)
		return
	}
	if r.http == nil {
		r.line(progressLine(done, total, message))
		return
	}
	item := map[string]any{"type": "progress", "done": done, "total": total}
	if message != "" {
		item["message"] = message
	}
	r.http.add(item)
}

// Annotation reports a notice, warning or error.
func (r *Reporter) Annotation(a Annotation) {
	if p := annotationProblem(a); p != "" {
		r.lose(p)
		return
	}
	if r.http == nil {
		r.line(annotationLine(a))
		return
	}
	item := map[string]any{"type": "annotation", "level": a.Level}
	if a.File != "" {
		item["file"] = a.File
	}
	if a.Line > 0 {
		item["line"] = a.Line
	}
	if a.Title != "" {
		item["title"] = a.Title
	}
	if a.Message != "" {
		item["message"] = a.Message
	}
	r.http.add(item)
}

// Tests reports test results. In a step they become an annotation (gbcms reads a step's JUnit
// files itself when the pipeline names them).
func (r *Reporter) Tests(t Tests) {
	if p := testsProblem(t); p != "" {
		r.lose(p)
		return
	}
	if r.http == nil {
		level := "notice"
		if t.Failures+t.Errors > 0 {
			level = "error"
		}
		r.Annotation(Annotation{Level: level, Title: fmt.Sprintf("tests: %d, failures: %d, errors: %d, skipped: %d", t.Tests, t.Failures, t.Errors, t.Skipped)})
		return
	}
	if t.Failed == nil {
		t.Failed = []FailedTest{}
	}
	r.http.add(map[string]any{
		"type": "tests", "tests": t.Tests, "failures": t.Failures, "errors": t.Errors,
		"skipped": t.Skipped, "duration_ms": t.DurationMs, "failed": t.Failed,
	})
}

// Flush sends what is buffered; it returns when it is delivered or given up on.
func (r *Reporter) Flush() {
	if r.http != nil {
		r.http.flush()
	}
}

// Finish ends the execution with "success" or "failure" (message, if any, becomes its reason).
// It fails when the server could not be told. In a step it prints message as an error
// annotation on failure; the step's exit code decides its status.
func (r *Reporter) Finish(status, message string) (*Execution, error) {
	if status != "success" && status != "failure" {
		return nil, errors.New("gbcms report: Finish status must be success or failure")
	}
	if r.http == nil {
		if status == "failure" && message != "" {
			r.Annotation(Annotation{Level: "error", Message: clip(message, textChars)})
		}
		return nil, nil
	}
	return r.http.finish(status, message)
}

// Fail finishes "failure" with `problem` and `detail` (a stack, say) as an error annotation.
func (r *Reporter) Fail(problem string, detail string) (*Execution, error) {
	summary := clip(problem, textChars)
	note := Annotation{Level: "error", Title: summary}
	if detail != "" {
		note.Message = clipEnd(detail, textChars)
	}
	r.Annotation(note)
	if r.http == nil {
		// In a step the annotation says it all; the step's exit code decides its status.
		return nil, nil
	}
	return r.Finish("failure", summary)
}

// Track starts an execution, runs `work` and finishes it: success when work returns nil;
// failure, with the error as an annotation, when it returns one; failure, with the stack, when
// it panics (the panic goes on). It returns work's error, or else Finish's.
func Track(r *Reporter, options StartOptions, work func(*Reporter) error) (err error) {
	r.Start(options)
	finished := false
	defer func() {
		if finished {
			return
		}
		if recovered := recover(); recovered != nil {
			if _, failErr := r.Fail(fmt.Sprintf("panic: %v", recovered), string(debug.Stack())); failErr != nil {
				r.onError(failErr)
			}
			panic(recovered)
		}
	}()
	workErr := work(r)
	finished = true
	if workErr != nil {
		if _, failErr := r.Fail(fmt.Sprintf("%T: %v", workErr, workErr), ""); failErr != nil {
			r.onError(failErr)
		}
		return workErr
	}
	_, err = r.Finish("success", "")
	return err
}

func (r *Reporter) line(text string) {
	r.outMu.Lock()
	defer r.outMu.Unlock()
	// A report line only counts at the start of a line: end an unfinished one first.
	fmt.Fprintln(r.out, text)
}

func (r *Reporter) lose(problem string) {
	if r.http != nil {
		r.http.lose(1, fail("%s", problem))
		return
	}
	r.outMu.Lock()
	r.lostInStep++
	r.outMu.Unlock()
	r.onError(fail("%s", problem))
}

func clip(text string, max int) string {
	runes := []rune(text)
	if len(runes) <= max {
		return text
	}
	return string(runes[:max])
}

func clipEnd(text string, max int) string {
	runes := []rune(text)
	if len(runes) <= max {
		return text
	}
	return string(runes[len(runes)-max:])
}

func stderrOnce() func(error) {
	var mu sync.Mutex
	said := map[string]bool{}
	return func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if said[err.Error()] {
			return
		}
		said[err.Error()] = true
		fmt.Fprintln(os.Stderr, strings.TrimSpace(err.Error()))
	}
}
