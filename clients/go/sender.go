package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

const (
	maxRetryDelay    = 8 * time.Second
	maxBatch         = 10_000
	sessionKeyPrefix = "gbcmsk_"
)

// sender is the HTTP side of a Reporter: a buffer, one goroutine that sends it in batches and
// beats when idle, and the requests with their retries.
type sender struct {
	options Options
	base    string
	client  *http.Client

	mu          sync.Mutex
	changed     *sync.Cond // broadcast when a send ends or the buffer empties
	wake        chan struct{}
	id          string
	buffer      []map[string]any
	firstWait   time.Time
	urgent      bool
	sending     bool
	running     bool
	lost        int
	lastContact time.Time
	heartbeat   time.Duration // 0: no heartbeats
	stopped     bool          // the execution ended, or Finish began: nothing more is sent
	finished    bool
	shutdown    bool
	startErr    error
}

func newSender(options Options) *sender {
	if options.FlushInterval <= 0 {
		options.FlushInterval = 500 * time.Millisecond
	}
	if options.BatchSize <= 0 {
		options.BatchSize = 1000
	}
	if options.BatchSize > maxBatch {
		options.BatchSize = maxBatch
	}
	if options.Attempts <= 0 {
		options.Attempts = 6
	}
	if options.RetryDelay <= 0 {
		options.RetryDelay = 250 * time.Millisecond
	}
	if options.MaxBuffered <= 0 {
		options.MaxBuffered = 100_000
	}
	s := &sender{
		options: options,
		base:    strings.TrimRight(options.URL, "/"),
		client:  &http.Client{Timeout: 30 * time.Second},
		wake:    make(chan struct{}, 1),
		id:      options.ExecutionID,
	}
	s.changed = sync.NewCond(&s.mu)
	return s
}

func (s *sender) executionID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

func (s *sender) lostCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lost
}

func (s *sender) start(options StartOptions) *Execution {
	var execution *Execution
	var err error
	if s.executionID() == "" {
		execution, err = s.create(options)
	} else {
		execution, err = s.existing()
	}
	if err != nil {
		s.mu.Lock()
		s.startErr = err
		s.mu.Unlock()
		s.tell(err)
		return nil
	}
	timeout := 300
	if execution.HeartbeatTimeout != nil {
		timeout = *execution.HeartbeatTimeout
	} else if options.HeartbeatTimeout > 0 {
		timeout = options.HeartbeatTimeout
	}
	s.mu.Lock()
	s.heartbeat = time.Duration(timeout) * time.Second / 3
	if len(s.buffer) > 0 {
		s.firstWait = time.Now()
	}
	s.running = true
	s.mu.Unlock()
	go s.run()
	return execution
}

func (s *sender) add(item map[string]any) {
	item["time"] = time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		s.lose(1, fail("the execution has ended; the report is not sent"))
		return
	}
	if len(s.buffer) == 0 {
		s.firstWait = time.Now()
	}
	s.buffer = append(s.buffer, item)
	dropped := 0
	if len(s.buffer) > s.options.MaxBuffered {
		dropped = len(s.buffer) - s.options.MaxBuffered
		s.buffer = append([]map[string]any(nil), s.buffer[dropped:]...)
	}
	full := len(s.buffer) >= s.options.BatchSize
	s.mu.Unlock()
	if full {
		s.poke()
	}
	if dropped > 0 {
		s.lose(dropped, fail("more than %d reports waiting; the oldest are lost", s.options.MaxBuffered))
	}
}

func (s *sender) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *sender) flush() {
	s.mu.Lock()
	s.urgent = true
	s.mu.Unlock()
	s.poke()
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.sending || (len(s.buffer) > 0 && s.running && s.id != "" && !s.stopped) {
		s.changed.Wait()
	}
}

func (s *sender) finish(status, message string) (*Execution, error) {
	s.mu.Lock()
	if s.finished {
		s.mu.Unlock()
		return nil, fail("Finish was called already")
	}
	s.finished = true
	s.heartbeat = 0
	s.mu.Unlock()
	s.flush()
	s.mu.Lock()
	s.stopped = true
	s.shutdown = true
	late := len(s.buffer)
	s.buffer = nil
	id, startErr := s.id, s.startErr
	s.mu.Unlock()
	s.poke()
	if late > 0 {
		s.lose(late, fail("reports made while finishing are not sent"))
	}
	if id == "" {
		if startErr != nil {
			return nil, startErr
		}
		return nil, fail("Start did not create the execution")
	}
	body := map[string]any{"status": status}
	if message != "" {
		body["message"] = clip(message, textChars)
	}
	code, answer, err := s.request("POST", "/api/executions/"+url.PathEscape(id)+"/finish", body)
	if err != nil {
		return nil, err
	}
	if code != 200 {
		return nil, refusal("finish", code, answer)
	}
	return decodeExecution(answer)
}

// run is the sender goroutine: a batch when one is due, a heartbeat when nothing reached the
// server for a heartbeat interval, until Finish.
func (s *sender) run() {
	for {
		batch, beat, wait, quit := s.next()
		if quit {
			return
		}
		if batch == nil && !beat {
			timer := time.NewTimer(wait)
			select {
			case <-s.wake:
			case <-timer.C:
			}
			timer.Stop()
			continue
		}
		if beat {
			if err := s.beat(); err != nil {
				s.tell(err)
				s.mu.Lock()
				// Not again at once: the next try is one heartbeat interval away.
				s.lastContact = time.Now()
				s.mu.Unlock()
			}
		} else {
			s.send(batch)
		}
		s.mu.Lock()
		s.sending = false
		if len(s.buffer) > 0 {
			// What is left goes out right away, like the TypeScript client's send loop.
			s.firstWait = time.Time{}
		}
		s.changed.Broadcast()
		s.mu.Unlock()
	}
}

// next decides, under the lock, what run does now: a batch, a heartbeat, or wait that long.
func (s *sender) next() (batch []map[string]any, beat bool, wait time.Duration, quit bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if len(s.buffer) > 0 && !s.stopped {
		if s.urgent || len(s.buffer) >= s.options.BatchSize || now.Sub(s.firstWait) >= s.options.FlushInterval {
			n := len(s.buffer)
			if n > s.options.BatchSize {
				n = s.options.BatchSize
			}
			batch = s.buffer[:n:n]
			s.buffer = s.buffer[n:]
			s.sending = true
			return batch, false, 0, false
		}
	}
	if len(s.buffer) == 0 {
		s.urgent = false
		s.changed.Broadcast()
	}
	if s.shutdown {
		s.running = false
		s.changed.Broadcast()
		return nil, false, 0, true
	}
	wait = time.Hour
	if len(s.buffer) > 0 && !s.stopped {
		wait = s.firstWait.Add(s.options.FlushInterval).Sub(now)
	}
	if s.heartbeat > 0 && !s.stopped {
		// Reports are signs of life too: no heartbeat while they flow.
		due := s.lastContact.Add(s.heartbeat).Sub(now)
		if due <= 0 {
			s.sending = true
			return nil, true, 0, false
		}
		if due < wait {
			wait = due
		}
	}
	if wait < time.Millisecond {
		wait = time.Millisecond
	}
	return nil, false, wait, false
}

func (s *sender) send(batch []map[string]any) {
	id := s.executionID()
	code, answer, err := s.request("POST", "/api/executions/"+url.PathEscape(id)+"/reports", batch)
	if err != nil {
		s.lose(len(batch), err)
		return
	}
	if code == 202 {
		var intake struct {
			Refused int `json:"refused"`
			Errors  []struct {
				Error string `json:"error"`
			} `json:"errors"`
		}
		_ = json.Unmarshal(answer, &intake)
		if intake.Refused > 0 {
			first := ""
			if len(intake.Errors) > 0 {
				first = ": " + intake.Errors[0].Error
			}
			s.lose(intake.Refused, fail("the server refused %d report(s)%s", intake.Refused, first))
		}
		return
	}
	lost := len(batch)
	if code == 409 {
		s.mu.Lock()
		s.stopped = true
		lost += len(s.buffer)
		s.buffer = nil
		s.mu.Unlock()
	}
	s.lose(lost, refusal("reports", code, answer))
}

func (s *sender) beat() error {
	code, answer, err := s.request("POST", "/api/executions/"+url.PathEscape(s.executionID())+"/heartbeat", map[string]any{})
	if err != nil {
		return err
	}
	if code == 409 {
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
	}
	if code != 200 {
		return refusal("heartbeat", code, answer)
	}
	return nil
}

func (s *sender) create(options StartOptions) (*Execution, error) {
	// A session key names its project and session itself.
	if s.options.ProjectID == "" && !strings.HasPrefix(s.options.Token, sessionKeyPrefix) {
		return nil, fail("ProjectID (or ExecutionID) is needed")
	}
	body := map[string]any{"external": true}
	if s.options.ProjectID != "" {
		body["project_id"] = s.options.ProjectID
	}
	if options.Session != "" {
		body["session"] = options.Session
	}
	if options.Name != "" {
		body["name"] = options.Name
	}
	if options.HeartbeatTimeout > 0 {
		body["heartbeat_timeout"] = options.HeartbeatTimeout
	}
	code, answer, err := s.request("POST", "/api/executions", body)
	if err != nil {
		return nil, err
	}
	if code != 201 {
		return nil, refusal("start", code, answer)
	}
	execution, err := decodeExecution(answer)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.id = execution.ID
	s.mu.Unlock()
	return execution, nil
}

// existing is the execution given as ExecutionID, after a heartbeat that checks it takes reports.
func (s *sender) existing() (*Execution, error) {
	if err := s.beat(); err != nil {
		return nil, err
	}
	code, answer, err := s.request("GET", "/api/executions/"+url.PathEscape(s.executionID()), nil)
	if err != nil {
		return nil, err
	}
	if code != 200 {
		return nil, refusal("start", code, answer)
	}
	return decodeExecution(answer)
}

// request sends body as JSON; it retries 5xx, 429 and network errors, and fails when every try did.
func (s *sender) request(method, path string, body any) (int, []byte, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return 0, nil, fail("%v", err)
		}
	}
	delay := s.options.RetryDelay
	var problem error = fail("the request was not sent")
	for attempt := 1; attempt <= s.options.Attempts; attempt++ {
		if attempt > 1 {
			time.Sleep(delay)
			if delay *= 2; delay > maxRetryDelay {
				delay = maxRetryDelay
			}
		}
		request, err := http.NewRequest(method, s.base+path, bytes.NewReader(payload))
		if err != nil {
			return 0, nil, fail("%v", err)
		}
		request.Header.Set("authorization", "Bearer "+s.options.Token)
		if body != nil {
			request.Header.Set("content-type", "application/json")
		}
		response, err := s.client.Do(request)
		if err != nil {
			problem = fail("%v", err)
			continue
		}
		answer, err := io.ReadAll(response.Body)
		response.Body.Close()
		if err != nil {
			problem = fail("%v", err)
			continue
		}
		if response.StatusCode >= 500 || response.StatusCode == 429 {
			problem = &Error{Message: fmt.Sprintf("gbcms report: the server answered %d", response.StatusCode), Status: response.StatusCode}
			continue
		}
		s.mu.Lock()
		s.lastContact = time.Now()
		s.mu.Unlock()
		return response.StatusCode, answer, nil
	}
	return 0, nil, problem
}

func (s *sender) lose(count int, err error) {
	s.mu.Lock()
	s.lost += count
	s.mu.Unlock()
	s.tell(err)
}

func (s *sender) tell(err error) {
	defer func() {
		// The user's handler failing must not break reporting.
		_ = recover()
	}()
	s.options.OnError(err)
}

func refusal(what string, code int, answer []byte) *Error {
	var body struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(answer, &body)
	message := body.Message
	if message == "" {
		message = fmt.Sprintf("HTTP %d", code)
	}
	return &Error{Message: fmt.Sprintf("gbcms report: %s refused: %s", what, message), Status: code, Code: body.Error}
}

func decodeExecution(answer []byte) (*Execution, error) {
	var execution Execution
	if err := json.Unmarshal(answer, &execution); err != nil {
		return nil, fail("the server's answer is not an execution: %v", err)
	}
	_ = json.Unmarshal(answer, &execution.Raw)
	return &execution, nil
}
