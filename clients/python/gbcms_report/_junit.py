"""A `tests` report from a JUnit XML file (the shape the server takes: counts, duration and the
failed cases), read with the standard library."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Dict, List

from ._validate import FAILED_OUTPUT_CHARS, FAILED_TESTS, TEXT_CHARS, Report


def _count(element: ET.Element, name: str) -> int:
    try:
        return int(float(element.get(name, "0")))
    except ValueError:
        return 0


def _seconds(element: ET.Element) -> float:
    try:
        return float(element.get("time", "0"))
    except ValueError:
        return 0.0


def tests_from_junit(path: str) -> Report:
    """Counts every <testcase>; failures, errors and skipped ones by their child element.
    Raises ValueError (with the file's name) when the file is not JUnit XML."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as error:
        raise ValueError(f"gbcms report: {path}: not a readable JUnit XML file ({error})") from error
    if root.tag not in ("testsuites", "testsuite"):
        raise ValueError(f"gbcms report: {path}: the root element is <{root.tag}>, not <testsuites> or <testsuite>")
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    failed: List[Dict[str, Any]] = []
    seconds = _seconds(root) if root.tag == "testsuites" else 0.0
    for suite in suites:
        if root.tag == "testsuite" or "time" not in root.attrib:
            seconds += _seconds(suite)
        for case in suite.findall("testcase"):
            counts["tests"] += 1
            problem = case.find("failure")
            kind = "failures"
            if problem is None:
                problem = case.find("error")
                kind = "errors"
            if problem is None:
                if case.find("skipped") is not None:
                    counts["skipped"] += 1
                continue
            counts[kind] += 1
            if len(failed) < FAILED_TESTS:
                entry: Dict[str, Any] = {
                    "suite": suite.get("name", "")[:TEXT_CHARS],
                    "name": (case.get("name") or "(unnamed)")[:TEXT_CHARS],
                    "classname": case.get("classname", "")[:TEXT_CHARS],
                    "message": problem.get("message", "")[:TEXT_CHARS],
                }
                if problem.text:
                    entry["output"] = problem.text[:FAILED_OUTPUT_CHARS]
                failed.append(entry)
    return {"type": "tests", **counts, "duration_ms": round(seconds * 1000, 3), "failed": failed}
