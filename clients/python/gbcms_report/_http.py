"""Reports over HTTP to a gbcms server, as an external execution: the behaviour and wire format
of the TypeScript `createHttpReporter` (engine/report/http.ts).

Reports are stamped when they are made, batched, and sent by one background thread at most
every `flush_interval` seconds (or as soon as `batch_size` wait), one request at a time; a 5xx
or 429 answer or a network error is retried with pauses doubling up to 8 s. Heartbeats go out
whenever nothing reached the server for heartbeat timeout / 3, so a long quiet computation is
not ended as "reporter stopped responding". Reporting never raises into your code: what cannot
be delivered is counted in `lost` and told to `on_error`. Only `finish` raises, when the server
could not be told the outcome.
"""
from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from ._validate import Report, report_problem

MAX_RETRY_DELAY_S = 8.0
MAX_BATCH = 10_000
SESSION_KEY_PREFIX = "gbcmsk_"

Execution = Dict[str, Any]


class ReporterError(Exception):
    """What could not be delivered or was refused; `status` and `code` when the server answered."""

    def __init__(self, message: str, status: Optional[int] = None, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _stderr_once() -> Callable[[ReporterError], None]:
    said: Set[str] = set()

    def tell(error: ReporterError) -> None:
        if str(error) in said:
            return
        said.add(str(error))
        print(str(error), file=sys.stderr, flush=True)

    return tell


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class HttpReporter:
    """One external execution on a gbcms server, fed from a background thread."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        project_id: Optional[str] = None,
        execution_id: Optional[str] = None,
        flush_interval: float = 0.5,
        batch_size: int = 1000,
        attempts: int = 6,
        retry_delay: float = 0.25,
        max_buffered: int = 100_000,
        request_timeout: float = 30.0,
        on_error: Optional[Callable[[ReporterError], None]] = None,
    ) -> None:
        self._base = url.rstrip("/")
        self._token = token
        self._project_id = project_id
        self._execution_id = execution_id
        self._flush_interval = flush_interval
        self._batch_size = max(1, min(MAX_BATCH, batch_size))
        self._attempts = max(1, attempts)
        self._retry_delay = retry_delay
        self._max_buffered = max_buffered
        self._request_timeout = request_timeout
        self._on_error = on_error or _stderr_once()
        self._cond = threading.Condition()
        self._buffer: List[Report] = []
        self._first_waiting = 0.0
        self._urgent = False
        self._sending = False
        self._lost = 0
        self._last_contact = 0.0
        self._heartbeat_s: Optional[float] = None
        # Set when the server says the execution has ended, or finish began: nothing more is sent.
        self._stopped = False
        self._finished = False
        self._shutdown = False
        self._thread: Optional[threading.Thread] = None
        self._start_problem: Optional[ReporterError] = None

    @property
    def execution_id(self) -> Optional[str]:
        return self._execution_id

    @property
    def lost(self) -> int:
        """Reports that will never reach the server: refused, or given up on."""
        return self._lost

    def start(
        self,
        session: Optional[str] = None,
        name: Optional[str] = None,
        heartbeat_timeout: Optional[int] = None,
    ) -> Optional[Execution]:
        """Creates the execution (unless `execution_id` was given) and starts the sender thread.
        None when the server could not be reached or refused: `on_error` was told, and `finish`
        will raise. Reports made before it are kept."""
        try:
            if self._execution_id is None:
                execution = self._create(session, name, heartbeat_timeout)
            else:
                execution = self._existing()
        except ReporterError as error:
            self._start_problem = error
            self._tell(error)
            return None
        timeout = execution.get("heartbeat_timeout_s") or heartbeat_timeout or 300
        with self._cond:
            self._heartbeat_s = max(0.1, float(timeout) / 3)
            if self._buffer:
                self._first_waiting = time.monotonic()
            self._thread = threading.Thread(target=self._run, name="gbcms-report", daemon=True)
            self._thread.start()
        return execution

    def add(self, report: Report) -> None:
        """Queues a report (a dict of the protocol's JSON shape)."""
        if self._stopped:
            self._lose(1, ReporterError("gbcms report: the execution has ended; the report is not sent"))
            return
        problem = report_problem(report)
        if problem:
            self._lose(1, ReporterError(f"gbcms report: {problem}"))
            return
        dropped = 0
        with self._cond:
            if not self._buffer:
                self._first_waiting = time.monotonic()
            self._buffer.append({**report, "time": now_iso()})
            if len(self._buffer) > self._max_buffered:
                dropped = len(self._buffer) - self._max_buffered
                del self._buffer[:dropped]
            if len(self._buffer) >= self._batch_size:
                self._cond.notify_all()
        if dropped:
            self._lose(
                dropped,
                ReporterError(f"gbcms report: more than {self._max_buffered} reports waiting; the oldest are lost"),
            )

    def flush(self, timeout: Optional[float] = None) -> None:
        """Sends what is buffered; returns when it is delivered or given up on (or after `timeout`)."""
        until = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._urgent = True
            self._cond.notify_all()
            while self._sending or (self._buffer and self._deliverable()):
                left = None if until is None else until - time.monotonic()
                if left is not None and left <= 0:
                    return
                self._cond.wait(left)

    def finish(self, status: str, message: Optional[str] = None) -> Execution:
        """Sends what is buffered, stops heartbeats and ends the execution with `status`
        ('success' or 'failure'; `message` becomes its reason). Raises ReporterError when the
        server could not be told."""
        if status not in ("success", "failure"):
            raise ValueError("gbcms report: finish status must be 'success' or 'failure'")
        if self._finished:
            raise ReporterError("gbcms report: finish() was called already")
        self._finished = True
        with self._cond:
            self._heartbeat_s = None
        self.flush()
        with self._cond:
            self._stopped = True
            self._shutdown = True
            late = len(self._buffer)
            self._buffer.clear()
            self._cond.notify_all()
        if late:
            self._lose(late, ReporterError("gbcms report: reports made while finishing are not sent"))
        if self._execution_id is None:
            raise self._start_problem or ReporterError("gbcms report: start() did not create the execution")
        body: Dict[str, Any] = {"status": status}
        if message:
            body["message"] = message[:4096]
        answer = self._request("POST", f"/api/executions/{self._quoted_id()}/finish", body)
        if answer[0] != 200:
            raise _refusal("finish", answer)
        return answer[1]

    def close(self) -> None:
        """finish('success') unless finish was called."""
        if not self._finished:
            self.finish("success")

    # -- the sender thread ------------------------------------------------------------------

    def _deliverable(self) -> bool:
        return self._execution_id is not None and not self._stopped and self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while True:
            with self._cond:
                batch = self._next_job()
                if batch is None:
                    return
                self._sending = True
            try:
                if batch:
                    self._send(batch)
                else:
                    self._beat_quietly()
            finally:
                with self._cond:
                    self._sending = False
                    # What is left goes out right away, like the TypeScript client's send loop.
                    if self._buffer:
                        self._first_waiting = 0.0
                    self._cond.notify_all()

    def _next_job(self) -> Optional[List[Report]]:
        """Under the lock: waits for a batch to send ([] for a heartbeat); None to stop."""
        while True:
            now = time.monotonic()
            if self._buffer and not self._stopped:
                if self._urgent or len(self._buffer) >= self._batch_size or now - self._first_waiting >= self._flush_interval:
                    batch = self._buffer[: self._batch_size]
                    del self._buffer[: self._batch_size]
                    return batch
            if not self._buffer:
                self._urgent = False
                self._cond.notify_all()
            if self._shutdown:
                return None
            waits: List[float] = []
            if self._buffer and not self._stopped:
                waits.append(self._first_waiting + self._flush_interval - now)
            if self._heartbeat_s is not None and not self._stopped:
                # Reports are signs of life too: no heartbeat while they flow.
                due = self._last_contact + self._heartbeat_s - now
                if due <= 0:
                    return []
                waits.append(due)
            self._cond.wait(max(0.0, min(waits)) if waits else None)

    def _send(self, batch: List[Report]) -> None:
        try:
            status, body = self._request("POST", f"/api/executions/{self._quoted_id()}/reports", batch)
        except ReporterError as error:
            self._lose(len(batch), error)
            return
        if status == 202:
            refused = int(body.get("refused", 0)) if isinstance(body, dict) else 0
            if refused > 0:
                errors = body.get("errors") or []
                first = f": {errors[0].get('error')}" if errors else ""
                self._lose(refused, ReporterError(f"gbcms report: the server refused {refused} report(s){first}"))
            return
        lost = len(batch)
        if status == 409:
            with self._cond:
                self._stopped = True
                lost += len(self._buffer)
                self._buffer.clear()
        self._lose(lost, _refusal("reports", (status, body)))

    def _beat_quietly(self) -> None:
        try:
            self._beat()
        except ReporterError as error:
            self._tell(error)
            # Not again at once: the next try is one heartbeat interval away.
            self._last_contact = time.monotonic()

    def _beat(self) -> None:
        status, body = self._request("POST", f"/api/executions/{self._quoted_id()}/heartbeat", {})
        if status == 409:
            self._stopped = True
        if status != 200:
            raise _refusal("heartbeat", (status, body))

    # -- requests ---------------------------------------------------------------------------

    def _create(self, session: Optional[str], name: Optional[str], heartbeat_timeout: Optional[int]) -> Execution:
        # A session key names its project and session itself.
        if self._project_id is None and not self._token.startswith(SESSION_KEY_PREFIX):
            raise ReporterError("gbcms report: project_id (or execution_id) is needed")
        body: Dict[str, Any] = {"external": True}
        if self._project_id is not None:
            body["project_id"] = self._project_id
        if session is not None:
            body["session"] = session
        if name is not None:
            body["name"] = name
        if heartbeat_timeout is not None:
            body["heartbeat_timeout"] = heartbeat_timeout
        answer = self._request("POST", "/api/executions", body)
        if answer[0] != 201:
            raise _refusal("start", answer)
        self._execution_id = str(answer[1]["id"])
        return answer[1]

    def _existing(self) -> Execution:
        """The execution given as `execution_id`, after a heartbeat that checks it takes reports."""
        self._beat()
        answer = self._request("GET", f"/api/executions/{self._quoted_id()}")
        if answer[0] != 200:
            raise _refusal("start", answer)
        return answer[1]

    def _quoted_id(self) -> str:
        return urllib.parse.quote(self._execution_id or "", safe="")

    def _request(self, method: str, path: str, body: Any = None) -> Tuple[int, Any]:
        """Sends `body` as JSON; retries 5xx, 429 and network errors. Raises when every try failed."""
        delay = self._retry_delay
        problem: Optional[ReporterError] = None
        for attempt in range(1, self._attempts + 1):
            if attempt > 1:
                time.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY_S)
            headers = {"authorization": f"Bearer {self._token}"}
            data = None
            if body is not None:
                headers["content-type"] = "application/json"
                data = json.dumps(body).encode("utf-8")
            request = urllib.request.Request(self._base + path, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self._request_timeout) as response:
                    status, text = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, text = error.code, error.read()
            except (OSError, ValueError) as error:
                # URLError, refused or reset connections, timeouts: the server may come back.
                problem = ReporterError(f"gbcms report: {getattr(error, 'reason', error)}")
                continue
            if status >= 500 or status == 429:
                problem = ReporterError(f"gbcms report: the server answered {status}", status)
                continue
            self._last_contact = time.monotonic()
            return status, _parse_json(text)
        raise problem or ReporterError("gbcms report: the request was not sent")

    def _lose(self, count: int, error: ReporterError) -> None:
        self._lost += count
        self._tell(error)

    def _tell(self, error: ReporterError) -> None:
        try:
            self._on_error(error)
        except Exception:  # noqa: BLE001 - the user's handler failing must not break reporting
            pass


def _refusal(what: str, answer: Tuple[int, Any]) -> ReporterError:
    status, body = answer
    code = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), str) else None
    message = body.get("message") if isinstance(body, dict) and isinstance(body.get("message"), str) else f"HTTP {status}"
    return ReporterError(f"gbcms report: {what} refused: {message}", status, code)


def _parse_json(text: bytes) -> Any:
    try:
        return json.loads(text.decode("utf-8"))
    except ValueError:
        return None
