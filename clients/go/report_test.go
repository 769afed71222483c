package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var server *gbcmsServer

// The SIGKILL test runs this test binary again as the process to kill (see killedRun).
const killedEnv = "GBCMS_GO_KILLED_RUN"

func TestMain(m *testing.M) {
	if os.Getenv(killedEnv) != "" {
		killedRun()
		return
	}
	var err error
	server, err = newServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	server.close()
	os.Exit(code)
}

func notInStep() *bool { no := false; return &no }

func reporter(t *testing.T, more func(*Options)) *Reporter {
	t.Helper()
	options := Options{URL: server.url, Token: server.token, ProjectID: server.projectID, FlushInterval: 50 * time.Millisecond, InStep: notInStep()}
	if more != nil {
		more(&options)
	}
	r, err := New(options)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAThousandPointsThenFinish(t *testing.T) {
	t.Parallel()
	r := reporter(t, nil)
	err := Track(r, StartOptions{Session: "go-sweep", Name: "thousand"}, func(r *Reporter) error {
		for step := 0; step < 1000; step++ {
			r.MetricAt("loss", 1/float64(step+1), int64(step))
		}
		r.Progress(1000, 1000, "done")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	execution := server.execution(t, r.ExecutionID())
	if execution["status"] != "success" || execution["name"] != "thousand" || execution["session_id"] == nil {
		t.Fatalf("execution: %v", execution)
	}
	points := server.reports(t, r.ExecutionID(), "metric")
	if len(points) != 1000 {
		t.Fatalf("%d points", len(points))
	}
	for step, point := range points {
		if point["step"] != float64(step) || point["value"] != 1/float64(step+1) {
			t.Fatalf("point %d: %v", step, point)
		}
	}
	if r.Lost() != 0 {
		t.Fatalf("lost %d", r.Lost())
	}
}

type divergedError struct{}

func (divergedError) Error() string { return "loss diverged" }

func TestAnErrorFinishesFailure(t *testing.T) {
	t.Parallel()
	r := reporter(t, nil)
	err := Track(r, StartOptions{Name: "fails"}, func(r *Reporter) error {
		r.Metric("loss", 1e9)
		return divergedError{}
	})
	if !errors.Is(err, divergedError{}) {
		t.Fatalf("Track returned %v", err)
	}
	execution := server.execution(t, r.ExecutionID())
	if execution["status"] != "failure" || execution["reason"] != "report.divergedError: loss diverged" {
		t.Fatalf("execution: %v", execution)
	}
	notes := server.reports(t, r.ExecutionID(), "annotation")
	if len(notes) != 1 || notes[0]["level"] != "error" || notes[0]["title"] != "report.divergedError: loss diverged" {
		t.Fatalf("annotations: %v", notes)
	}
}

func TestAPanicFinishesFailureWithItsStack(t *testing.T) {
	t.Parallel()
	r := reporter(t, nil)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not go on")
			}
		}()
		_ = Track(r, StartOptions{Name: "panics"}, func(r *Reporter) error {
			var values []float64
			r.Metric("x", values[3])
			return nil
		})
	}()
	execution := server.execution(t, r.ExecutionID())
	if execution["status"] != "failure" || !strings.HasPrefix(fmt.Sprint(execution["reason"]), "panic: runtime error: index out of range") {
		t.Fatalf("execution: %v", execution)
	}
	notes := server.reports(t, r.ExecutionID(), "annotation")
	if len(notes) != 1 || !strings.Contains(fmt.Sprint(notes[0]["message"]), "goroutine") {
		t.Fatalf("annotations: %v", notes)
	}
}

// killedRun is the process the SIGKILL test kills: it starts an execution, reports, prints the
// id, then computes quietly (heartbeats only) until it is killed.
func killedRun() {
	settings := strings.Split(os.Getenv(killedEnv), " ")
	r, err := New(Options{URL: settings[0], Token: settings[1], ProjectID: settings[2], InStep: notInStep()})
	if err != nil {
		panic(err)
	}
	execution := r.Start(StartOptions{Name: "killed", HeartbeatTimeout: 10})
	if execution == nil {
		os.Exit(3)
	}
	r.Metric("loss", 1)
	r.Flush()
	fmt.Println(execution.ID)
	select {}
}

func TestKilledWithSIGKILLEndsErrorAfterTheHeartbeatTimeout(t *testing.T) {
	t.Parallel()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), killedEnv+"="+strings.Join([]string{server.url, server.token, server.projectID}, " "))
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	id, _ := bufio.NewReader(out).ReadString('\n')
	id = strings.TrimSpace(id)
	if id == "" {
		child.Process.Kill()
		t.Fatal("the child printed no execution id")
	}
	// Longer than the 10 s heartbeat timeout: heartbeats alone keep it running.
	for quietUntil := time.Now().Add(12 * time.Second); time.Now().Before(quietUntil); time.Sleep(time.Second) {
		if status := server.execution(t, id)["status"]; status != "running" {
			child.Process.Kill()
			t.Fatalf("status %v while the child was alive", status)
		}
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	var ended map[string]any
	waitFor(t, "the server to end the killed run", func() bool {
		ended = server.execution(t, id)
		return ended["status"] != "running"
	})
	if ended["status"] != "error" || ended["reason"] != "reporter stopped responding" {
		t.Fatalf("execution: %v", ended)
	}
}

// Not parallel: it takes the server away.
func TestTheServerDownForAFewSecondsLosesNothing(t *testing.T) {
	var mu sync.Mutex
	var problems []string
	r := reporter(t, func(o *Options) {
		o.Attempts = 12
		o.OnError = func(err error) { mu.Lock(); problems = append(problems, err.Error()); mu.Unlock() }
	})
	if r.Start(StartOptions{Name: "outage"}) == nil {
		t.Fatal("not started")
	}
	for step := 0; step < 500; step++ {
		r.MetricAt("loss", float64(step), int64(step))
	}
	r.Flush()
	server.stop()
	for step := 500; step < 1000; step++ {
		r.MetricAt("loss", float64(step), int64(step))
	}
	// Away for a few seconds: the sender meets a closed port and keeps retrying.
	time.Sleep(3 * time.Second)
	if err := server.start(); err != nil {
		t.Fatal(err)
	}
	finished, err := r.Finish("success", "survived")
	if err != nil {
		t.Fatal(err)
	}
	if finished.Status != "success" || r.Lost() != 0 {
		t.Fatalf("status %s, lost %d: %v", finished.Status, r.Lost(), problems)
	}
	points := server.reports(t, r.ExecutionID(), "metric")
	for step, point := range points {
		if point["step"] != float64(step) {
			t.Fatalf("point %d: %v", step, point)
		}
	}
	if len(points) != 1000 {
		t.Fatalf("%d points", len(points))
	}
}

func TestASessionKeyIsAllItNeeds(t *testing.T) {
	var made struct {
		ID  string `json:"id"`
		Key struct {
			Key string `json:"key"`
		} `json:"key"`
	}
	if code := server.api(t, "POST", "/api/projects/"+server.projectID+"/sessions", map[string]any{"name": "go-notebook", "key": true}, &made); code != 201 {
		t.Fatalf("session: %d", code)
	}
	r, err := New(Options{URL: server.url, Token: made.Key.Key, InStep: notInStep()})
	if err != nil {
		t.Fatal(err)
	}
	if err := Track(r, StartOptions{Name: "from a key"}, func(r *Reporter) error { r.Metric("accuracy", 0.9); return nil }); err != nil {
		t.Fatal(err)
	}
	execution := server.execution(t, r.ExecutionID())
	if execution["session_id"] != made.ID || execution["status"] != "success" {
		t.Fatalf("execution: %v", execution)
	}
}

func TestJUnitResults(t *testing.T) {
	path := t.TempDir() + "/results.xml"
	junit := `<testsuites><testsuite name="unit" time="1.5"><testcase name="ok"/><testcase name="bad" classname="a"><failure message="boom">trace</failure></testcase><testcase name="skip"><skipped/></testcase></testsuite></testsuites>`
	if err := os.WriteFile(path, []byte(junit), 0o600); err != nil {
		t.Fatal(err)
	}
	tests, err := TestsFromJUnit(path)
	if err != nil {
		t.Fatal(err)
	}
	r := reporter(t, nil)
	if err := Track(r, StartOptions{Name: "junit"}, func(r *Reporter) error { r.Tests(tests); return nil }); err != nil {
		t.Fatal(err)
	}
	stored := server.reports(t, r.ExecutionID(), "tests")
	if len(stored) != 1 || stored[0]["tests"] != 3.0 || stored[0]["failures"] != 1.0 || stored[0]["skipped"] != 1.0 || stored[0]["duration_ms"] != 1500.0 {
		t.Fatalf("tests: %v", stored)
	}
	if _, err := TestsFromJUnit(t.TempDir() + "/missing.xml"); err == nil {
		t.Fatal("a missing file is an error")
	}
}

func TestBadInputIsCountedAndToldNeverFatal(t *testing.T) {
	var problems []string
	r := reporter(t, func(o *Options) { o.OnError = func(err error) { problems = append(problems, err.Error()) } })
	r.Start(StartOptions{Name: "bad input"})
	r.Metric("no spaces", 1)
	r.Progress(2, 1, "")
	r.Annotation(Annotation{Level: "fatal", Title: "x"})
	if _, err := r.Finish("success", ""); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"gbcms report: metric name 'no spaces' may only hold A-Z a-z 0-9 _ . : / -",
		"gbcms report: progress done must be a number from 0 to the total",
		"gbcms report: annotation level must be notice, warning or error",
	}
	if r.Lost() != 3 || strings.Join(problems, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lost %d: %q", r.Lost(), problems)
	}
	refused := reporter(t, func(o *Options) { o.Token = "gbcms_" + strings.Repeat("x", 43); o.OnError = func(error) {} })
	if refused.Start(StartOptions{}) != nil {
		t.Fatal("a bad token started")
	}
	if _, err := refused.Finish("success", ""); err == nil || !strings.Contains(err.Error(), "start refused: the API token is invalid or revoked") {
		t.Fatalf("Finish: %v", err)
	}
}

func TestInsideAStepItPrintsTheProtocol(t *testing.T) {
	var out bytes.Buffer
	yes := true
	r, err := New(Options{InStep: &yes, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	_ = Track(r, StartOptions{}, func(r *Reporter) error {
		r.MetricAt("loss", 0.25, 3)
		r.Metric("loss", 2)
		r.Progress(1, 4, "epoch 1")
		r.Annotation(Annotation{Level: "warning", File: "a b.go", Line: 3, Title: "Slow"})
		r.Annotation(Annotation{Level: "notice", Title: "A title", Message: "two\nlines"})
		return errors.New("boom")
	})
	want := strings.Join([]string{
		"::gbcms metric name=loss value=0.25 step=3",
		"::gbcms metric name=loss value=2",
		"::gbcms progress 1/4 epoch 1",
		`::gbcms annotation level=warning file="a b.go" line=3 title=Slow`,
		`::gbcms annotation level=notice title="A title" message="two\nlines"`,
		`::gbcms annotation level=error title=*errors.errorString: boom`,
	}, "\n") + "\n"
	if out.String() != want {
		t.Fatalf("printed:\n%s\nwant:\n%s", out.String(), want)
	}
}
