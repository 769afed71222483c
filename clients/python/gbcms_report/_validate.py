"""Whether a report is valid: the engine's rules (engine/reports/validate.ts), so a report this
client sends is never one the server refuses."""
from __future__ import annotations

import math
import re
from typing import Any, Dict, Optional

NAME = re.compile(r"^[A-Za-z0-9_.:/-]+$")
LEVELS = ("notice", "warning", "error")
NAME_CHARS = 128
TEXT_CHARS = 4096
FILE_CHARS = 1024
FAILED_TESTS = 1000
FAILED_OUTPUT_CHARS = 65536

Report = Dict[str, Any]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_whole(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _text_problem(field: str, text: Any, limit: int) -> Optional[str]:
    if not isinstance(text, str):
        return f"{field} must be text"
    if len(text) > limit:
        return f"{field} is {len(text)} characters long; at most {limit}"
    return None


def report_problem(report: Report) -> Optional[str]:
    """Why `report` is not valid, or None when it is."""
    kind = report.get("type")
    if kind == "metric":
        name = report.get("name")
        if not isinstance(name, str) or name == "":
            return "a metric needs a name"
        if len(name) > NAME_CHARS:
            return f"metric name is {len(name)} characters long; at most {NAME_CHARS}"
        if not NAME.match(name):
            return f"metric name '{name}' may only hold A-Z a-z 0-9 _ . : / -"
        if not _is_number(report.get("value")):
            return f"metric {name}: value must be a finite number"
        if "step" in report and not _is_whole(report["step"], 0):
            return f"metric {name}: step must be a whole number >= 0"
        return None
    if kind == "progress":
        done, total = report.get("done"), report.get("total")
        if not _is_number(total) or total <= 0:
            return "progress total must be a number > 0"
        if not _is_number(done) or done < 0 or done > total:
            return "progress done must be a number from 0 to the total"
        if "message" in report:
            problem = _text_problem("progress message", report["message"], TEXT_CHARS)
            if problem:
                return problem
            if "\r" in report["message"] or "\n" in report["message"]:
                return "progress message must be one line"
        return None
    if kind == "annotation":
        if report.get("level") not in LEVELS:
            return "annotation level must be notice, warning or error"
        if "title" not in report and "message" not in report:
            return "an annotation needs a title or a message"
        for field in ("title", "message"):
            if field not in report:
                continue
            problem = _text_problem(f"annotation {field}", report[field], TEXT_CHARS)
            if problem:
                return problem
            if report[field] == "":
                return f"annotation {field} is empty"
        if "file" in report:
            problem = _text_problem("annotation file", report["file"], FILE_CHARS)
            if problem:
                return problem
            if report["file"] == "":
                return "annotation file is empty"
        if "line" in report and not _is_whole(report["line"], 1):
            return "annotation line must be a whole number >= 1"
        return None
    if kind == "tests":
        for field in ("tests", "failures", "errors", "skipped"):
            if not _is_whole(report.get(field), 0):
                return f"tests: {field} must be a whole number >= 0"
        duration = report.get("duration_ms")
        if not _is_number(duration) or duration < 0:
            return "tests: duration_ms must be a number >= 0"
        failed = report.get("failed", [])
        if not isinstance(failed, list) or len(failed) > FAILED_TESTS:
            return f"tests: failed must be a list of at most {FAILED_TESTS} tests"
        return None
    return "unknown report type"
