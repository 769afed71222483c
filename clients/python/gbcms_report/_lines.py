"""The `::gbcms` stdout lines a gbcms step prints to report (engine/reports/format.ts), quoted
so that the engine's parser reads back exactly what was written."""
from __future__ import annotations

import re

from ._validate import Report, report_problem

PREFIX = "::gbcms "
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BLANKS = " \t"


def _quoted(value: str) -> str:
    return '"' + re.sub(r'[\\"\n\r\t]', lambda m: _ESCAPES[m.group(0)], value) + '"'


def _field(value: str) -> str:
    """A field value: bare when the parser reads it back unchanged, quoted otherwise."""
    if value != "" and not re.search(r"[ \t\r\n]", value) and not value.startswith('"'):
        return value
    return _quoted(value)


def _rest(value: str) -> str:
    """A rest-of-line value (an annotation's last field)."""
    bare = (
        value != ""
        and not re.search(r"[\r\n]", value)
        and not value.startswith('"')
        and value[0] not in _BLANKS
        and value[-1] not in _BLANKS
    )
    return value if bare else _quoted(value)


def _number(value: float) -> str:
    """As JavaScript's String(number) would write it, so whole floats print without `.0`."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def format_line(report: Report) -> str:
    """The stdout line (without newline) for a valid report. Raises ValueError otherwise."""
    problem = report_problem(report)
    if problem:
        raise ValueError(f"gbcms report: {problem}")
    kind = report["type"]
    if kind == "metric":
        step = f" step={report['step']}" if "step" in report else ""
        return f"{PREFIX}metric name={report['name']} value={_number(report['value'])}{step}"
    if kind == "progress":
        message = report.get("message", "").strip(_BLANKS)
        tail = f" {message}" if message else ""
        return f"{PREFIX}progress {_number(report['done'])}/{_number(report['total'])}{tail}"
    if kind == "annotation":
        parts = [f"{PREFIX}annotation level={report['level']}"]
        if "file" in report:
            parts.append(f"file={_field(report['file'])}")
        if "line" in report:
            parts.append(f"line={report['line']}")
        if "title" in report:
            # Unquoted, a title would take the message with it as the rest of the line.
            title = report["title"]
            parts.append(f"title={_quoted(title) if 'message' in report else _rest(title)}")
        if "message" in report:
            parts.append(f"message={_rest(report['message'])}")
        return " ".join(parts)
    raise ValueError(f"gbcms report: a {kind} report has no protocol line")
