"""`Reporter`: one tracked run of code, wherever it runs. Outside gbcms it is an external
execution on a gbcms server (HttpReporter); inside a gbcms step ($GBCMS_STEP is set) it prints
the step protocol's `::gbcms` lines instead, so the same code works in both places.

As a context manager (or through `track`), a normal exit finishes `success`; an exception
finishes `failure` with an `error` annotation holding the exception's type, message and
traceback (the exception still propagates); a process that dies without finishing is ended
`error` by the server once its heartbeat timeout passes.
"""
from __future__ import annotations

import functools
import os
import sys
import threading
import traceback
from types import TracebackType
from typing import Any, Callable, Dict, List, Optional, Type, TypeVar

from ._http import Execution, HttpReporter, ReporterError, _stderr_once
from ._junit import tests_from_junit
from ._lines import format_line
from ._validate import Report, report_problem

F = TypeVar("F", bound=Callable[..., Any])

_active: List["Reporter"] = []
_active_lock = threading.Lock()


class Reporter:
    """Reports of one run. `url` and `token` default to $GBCMS_URL and $GBCMS_TOKEN (a token or a
    session key); `project_id` to $GBCMS_PROJECT (not needed with a session key)."""

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        *,
        project_id: Optional[str] = None,
        execution_id: Optional[str] = None,
        session: Optional[str] = None,
        name: Optional[str] = None,
        heartbeat_timeout: Optional[int] = None,
        in_step: Optional[bool] = None,
        on_error: Optional[Callable[[ReporterError], None]] = None,
        write: Optional[Callable[[str], None]] = None,
        **http_options: Any,
    ) -> None:
        self.session = session
        self.name = name
        self.heartbeat_timeout = heartbeat_timeout
        self._on_error = on_error or _stderr_once()
        self._write = write or _stdout_line
        self._in_step = ("GBCMS_STEP" in os.environ) if in_step is None else in_step
        self._http: Optional[HttpReporter] = None
        self._step_lost = 0
        self._started = False
        if self._in_step:
            return
        url = url or os.environ.get("GBCMS_URL")
        token = token or os.environ.get("GBCMS_TOKEN")
        if not url:
            raise ValueError("gbcms report: no server URL: pass url= or set $GBCMS_URL")
        if not token:
            raise ValueError("gbcms report: no token: pass token= (an API token or a session key) or set $GBCMS_TOKEN")
        self._http = HttpReporter(
            url,
            token,
            project_id=project_id or os.environ.get("GBCMS_PROJECT"),
            execution_id=execution_id,
            on_error=self._on_error,
            **http_options,
        )

    @property
    def in_step(self) -> bool:
        """Whether reports become `::gbcms` lines (inside a gbcms step) rather than HTTP requests."""
        return self._in_step

    @property
    def execution_id(self) -> Optional[str]:
        return self._http.execution_id if self._http else None

    @property
    def lost(self) -> int:
        """Reports that were refused or could not be delivered."""
        return self._http.lost if self._http else self._step_lost

    def start(self) -> Optional[Execution]:
        """Creates the execution on the server (None in a step, or when the server could not be
        reached or refused: `on_error` was told). Reports made before it are kept."""
        self._started = True
        if self._http is None:
            return None
        return self._http.start(self.session, self.name, self.heartbeat_timeout)

    def metric(self, name: str, value: float, step: Optional[int] = None) -> None:
        """A point of metric `name`; `step` is the training step, epoch or iteration (whole, >= 0)."""
        report: Report = {"type": "metric", "name": name, "value": value}
        if step is not None:
            report["step"] = step
        self._add(report)

    def progress(self, done: float, total: float, message: Optional[str] = None) -> None:
        report: Report = {"type": "progress", "done": done, "total": total}
        if message is not None:
            report["message"] = message
        self._add(report)

    def annotation(
        self,
        level: str,
        title: Optional[str] = None,
        message: Optional[str] = None,
        *,
        file: Optional[str] = None,
        line: Optional[int] = None,
    ) -> None:
        """`level`: notice, warning or error; at least one of `title` and `message`."""
        report: Report = {"type": "annotation", "level": level}
        for key, value in (("file", file), ("line", line), ("title", title), ("message", message)):
            if value is not None:
                report[key] = value
        self._add(report)

    def tests(
        self,
        junit: Optional[str] = None,
        *,
        tests: int = 0,
        failures: int = 0,
        errors: int = 0,
        skipped: int = 0,
        duration_ms: float = 0,
        failed: Optional[List[Dict[str, Any]]] = None,
    ) -> None:
        """Test results: from a JUnit XML file, or counts. In a step they become an annotation
        (gbcms reads a step's JUnit files itself when the pipeline names them)."""
        report: Report = (
            tests_from_junit(junit)
            if junit is not None
            else {
                "type": "tests",
                "tests": tests,
                "failures": failures,
                "errors": errors,
                "skipped": skipped,
                "duration_ms": duration_ms,
                "failed": failed or [],
            }
        )
        if self._http is None:
            problem = report_problem(report)
            if problem:
                self._lose_in_step(problem)
                return
            level = "error" if report["failures"] or report["errors"] else "notice"
            title = (
                f"tests: {report['tests']}, failures: {report['failures']}, "
                f"errors: {report['errors']}, skipped: {report['skipped']}"
            )
            self.annotation(level, title)
            return
        self._add(report)

    def flush(self, timeout: Optional[float] = None) -> None:
        """Sends what is buffered; returns when it is delivered or given up on."""
        if self._http is not None:
            self._http.flush(timeout)

    def finish(self, status: str = "success", message: Optional[str] = None) -> Optional[Execution]:
        """Ends the execution: 'success' or 'failure' (`message` becomes its reason). Raises
        ReporterError when the server could not be told. In a step: prints `message` as an
        annotation on failure; the step's exit code decides its status."""
        if self._http is not None:
            return self._http.finish(status, message)
        if status == "failure" and message:
            self.annotation("error", message)
        return None

    def fail(self, error: BaseException) -> Optional[Execution]:
        """Finishes `failure` with the exception's type, message and traceback as an annotation."""
        summary = f"{type(error).__name__}: {error}".strip()
        frames = traceback.extract_tb(error.__traceback__)
        where: Dict[str, Any] = {}
        if frames:
            # Relative to the working directory when inside it: a step's annotations name
            # workspace files that way.
            file = frames[-1].filename
            cwd = os.getcwd() + os.sep
            where = {"file": (file[len(cwd):] if file.startswith(cwd) else file)[-1024:], "line": max(1, frames[-1].lineno or 1)}
        detail = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        self.annotation("error", summary[:4096], detail[-4096:], **where)
        if self._http is None:
            return None
        return self._http.finish("failure", summary[:4096])

    def __enter__(self) -> "Reporter":
        if not self._started:
            self.start()
        with _active_lock:
            _active.append(self)
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool:
        with _active_lock:
            if self in _active:
                _active.remove(self)
        clean = exc is None or (isinstance(exc, SystemExit) and exc.code in (None, 0))
        if clean:
            self.finish("success")
            return False
        assert exc is not None
        try:
            self.fail(exc)
        except ReporterError as error:
            # The code's own exception matters more: say this one, let that one propagate.
            self._on_error(error)
        return False

    def _add(self, report: Report) -> None:
        if self._http is not None:
            self._http.add(report)
            return
        try:
            self._write(format_line(report))
        except ValueError as error:
            self._lose_in_step(str(error).replace("gbcms report: ", ""))

    def _lose_in_step(self, problem: str) -> None:
        self._step_lost += 1
        self._on_error(ReporterError(f"gbcms report: {problem}"))


def _stdout_line(line: str) -> None:
    # A report line only counts at the start of a line: end an unfinished one first.
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def current() -> Reporter:
    """The innermost active reporter (of a `with Reporter(...)` block or a `track`ed call)."""
    with _active_lock:
        if not _active:
            raise RuntimeError("gbcms report: no active reporter; use `with Reporter(...)` or @track")
        return _active[-1]


def track(func: Optional[F] = None, **options: Any) -> Any:
    """Tracks each call of the decorated function as one execution (named after the function
    unless `name=` is given). Inside it, `gbcms_report.metric(...)` and friends report to it.

        @track(session="regression")
        def fit(alpha): ...
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def tracked(*args: Any, **kwargs: Any) -> Any:
            settings = dict(options)
            settings.setdefault("name", function.__qualname__[:100])
            with Reporter(**settings):
                return function(*args, **kwargs)

        return tracked  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate


def metric(name: str, value: float, step: Optional[int] = None) -> None:
    current().metric(name, value, step)


def progress(done: float, total: float, message: Optional[str] = None) -> None:
    current().progress(done, total, message)


def annotation(level: str, title: Optional[str] = None, message: Optional[str] = None, **where: Any) -> None:
    current().annotation(level, title, message, **where)
