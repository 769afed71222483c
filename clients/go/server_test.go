package report

// A real `gbcms serve` for the tests: a fresh data folder, a developer's token, a project they
// own, the server on a free port. stop and start again keep the port and the data.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hang bounds every wait, only so that a hang ends the test.
const hang = 120 * time.Second

type gbcmsServer struct {
	data, token, projectID, url string
	port                        int
	cmd                         *exec.Cmd
	done                        chan struct{}
}

func repoRoot() string {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	return root
}

func node() string {
	if path := os.Getenv("GBCMS_NODE"); path != "" {
		return path
	}
	return "node"
}

func cli(data string, args ...string) (string, error) {
	cmd := exec.Command(node(), append([]string{filepath.Join(repoRoot(), "bin", "gbcms.js")}, append(args, "--data", data)...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("gbcms %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

func newServer() (*gbcmsServer, error) {
	data, err := os.MkdirTemp("", "gbcms-go-client-")
	if err != nil {
		return nil, err
	}
	s := &gbcmsServer{data: data}
	token, err := cli(data, "token", "create", "--role", "developer", "--user", "alice")
	if err != nil {
		return nil, err
	}
	s.token = strings.TrimSpace(token)
	described, err := cli(data, "project", "create", "notebooks", "--repo", "/srv/git/notebooks.git", "--owner", "alice")
	if err != nil {
		return nil, err
	}
	found := regexp.MustCompile(`(?m)^id:\s+(\S+)`).FindStringSubmatch(described)
	if found == nil {
		return nil, fmt.Errorf("no project id in: %s", described)
	}
	s.projectID = found[1]
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.port = probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	s.url = fmt.Sprintf("http://127.0.0.1:%d", s.port)
	return s, s.start()
}

func (s *gbcmsServer) start() error {
	cmd := exec.Command(node(), filepath.Join(repoRoot(), "bin", "gbcms.js"), "serve", "--port", fmt.Sprint(s.port),
		"--data", s.data, "--backend", "local", "--rate-limit", "100000", "--grace", "1s", "--log-level", "warn")
	output, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	s.done = make(chan struct{})
	listening := make(chan struct{})
	var seen strings.Builder
	go func() {
		lines := bufio.NewScanner(output)
		said := false
		for lines.Scan() {
			seen.WriteString(lines.Text() + "\n")
			if !said && strings.Contains(lines.Text(), "listening on") {
				said = true
				close(listening)
			}
		}
		cmd.Wait()
		close(s.done)
	}()
	select {
	case <-listening:
		return nil
	case <-s.done:
		return fmt.Errorf("gbcms serve ended before it listened:\n%s", seen.String())
	case <-time.After(hang):
		return fmt.Errorf("gbcms serve did not listen")
	}
}

// stop sends SIGTERM, as a restarted server gets, and waits until it has exited.
func (s *gbcmsServer) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(hang):
		s.cmd.Process.Kill()
	}
	s.cmd = nil
}

func (s *gbcmsServer) close() {
	s.stop()
	os.RemoveAll(s.data)
}

func (s *gbcmsServer) api(t *testing.T, method, path string, body any, into any) int {
	t.Helper()
	var payload io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		payload = bytes.NewReader(data)
	}
	request, _ := http.NewRequest(method, s.url+path, payload)
	request.Header.Set("authorization", "Bearer "+s.token)
	if body != nil {
		request.Header.Set("content-type", "application/json")
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer response.Body.Close()
	if into != nil {
		if err := json.NewDecoder(response.Body).Decode(into); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return response.StatusCode
}

func (s *gbcmsServer) execution(t *testing.T, id string) map[string]any {
	t.Helper()
	var execution map[string]any
	if code := s.api(t, "GET", "/api/executions/"+id, nil, &execution); code != 200 {
		t.Fatalf("GET execution %s: %d", id, code)
	}
	return execution
}

func (s *gbcmsServer) reports(t *testing.T, id, kind string) []map[string]any {
	t.Helper()
	var page struct {
		Items []struct {
			Report map[string]any `json:"report"`
		} `json:"items"`
	}
	if code := s.api(t, "GET", "/api/executions/"+id+"/reports?type="+kind+"&limit=10000", nil, &page); code != 200 {
		t.Fatalf("GET reports: %d", code)
	}
	reports := make([]map[string]any, 0, len(page.Items))
	for _, item := range page.Items {
		reports = append(reports, item.Report)
	}
	return reports
}

// waitFor polls check until it holds; it fails only after `hang`.
func waitFor(t *testing.T, what string, check func() bool) {
	t.Helper()
	until := time.Now().Add(hang)
	for !check() {
		if time.Now().After(until) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
