"""The Python client against a real `gbcms serve` (tests/gbcms_server.py). gbcms_report comes
from $PYTHONPATH: the installed package in CI (test/clients/python-client.test.ts), or
`PYTHONPATH=clients/python python3 -m unittest discover -s clients/python/tests` by hand."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock
from pathlib import Path
from typing import List

from gbcms_report import Reporter, ReporterError, format_line, metric, track
from gbcms_server import HANG_S, GbcmsServer

HERE = Path(__file__).resolve().parent
server: GbcmsServer


def setUpModule() -> None:
    global server
    server = GbcmsServer()
    server.start()


def tearDownModule() -> None:
    server.close()


def reporter(**options: object) -> Reporter:
    settings = {"token": server.token, "project_id": server.project_id, "flush_interval": 0.05, "in_step": False}
    settings.update(options)
    return Reporter(server.url, **settings)  # type: ignore[arg-type]


class ReporterTest(unittest.TestCase):
    def test_a_thousand_points_then_finish(self) -> None:
        with reporter(session="py-sweep", name="thousand") as report:
            for step in range(1000):
                report.metric("loss", 1 / (step + 1), step=step)
            report.progress(1000, 1000, "done")
        execution = server.execution(str(report.execution_id))
        self.assertEqual(execution["status"], "success")
        self.assertEqual(execution["name"], "thousand")
        self.assertIsNotNone(execution["session_id"])
        points = server.reports(str(report.execution_id), "metric")
        self.assertEqual([point["step"] for point in points], list(range(1000)))
        self.assertEqual([point["value"] for point in points], [1 / (step + 1) for step in range(1000)])
        self.assertEqual(server.reports(str(report.execution_id), "progress")[-1]["message"], "done")
        self.assertEqual(report.lost, 0)

    def test_an_exception_finishes_failure_with_its_traceback(self) -> None:
        with self.assertRaises(ZeroDivisionError):
            with reporter(name="raises") as report:
                report.metric("loss", 0.5)
                print(1 / 0)
        execution = server.execution(str(report.execution_id))
        self.assertEqual(execution["status"], "failure")
        self.assertEqual(execution["reason"], "ZeroDivisionError: division by zero")
        [note] = server.reports(str(report.execution_id), "annotation")
        self.assertEqual(note["level"], "error")
        self.assertEqual(note["title"], "ZeroDivisionError: division by zero")
        self.assertIn("Traceback (most recent call last)", note["message"])
        self.assertEqual(note["file"], os.path.relpath(__file__) if __file__.startswith(os.getcwd() + os.sep) else __file__)
        self.assertEqual(len(server.reports(str(report.execution_id), "metric")), 1)

    def test_killed_with_sigkill_ends_error_after_the_heartbeat_timeout(self) -> None:
        env = dict(os.environ)
        env.pop("GBCMS_STEP", None)
        child = subprocess.Popen(
            [sys.executable, str(HERE / "killed_run.py"), server.url, server.token, server.project_id],
            stdout=subprocess.PIPE, text=True, env=env,
        )
        try:
            assert child.stdout is not None
            execution_id = child.stdout.readline().strip()
            self.assertTrue(execution_id, "the child printed its execution's id")
            # Longer than the 10 s heartbeat timeout: heartbeats alone keep it running.
            quiet_until = time.monotonic() + 12
            while time.monotonic() < quiet_until:
                self.assertEqual(server.execution(execution_id)["status"], "running")
                time.sleep(1)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(HANG_S)
            if child.stdout is not None:
                child.stdout.close()
        ended = server.wait_for(
            "the server to end the killed run",
            lambda: (lambda e: e if e["status"] != "running" else None)(server.execution(execution_id)),
        )
        self.assertEqual(ended["status"], "error")
        self.assertEqual(ended["reason"], "reporter stopped responding")

    def test_the_server_down_for_a_few_seconds_loses_nothing(self) -> None:
        errors: List[ReporterError] = []
        report = reporter(name="outage", attempts=12, on_error=errors.append)
        self.assertIsNotNone(report.start())
        for step in range(500):
            report.metric("loss", float(step), step=step)
        report.flush()
        server.stop()
        try:
            for step in range(500, 1000):
                report.metric("loss", float(step), step=step)
            # Away for a few seconds: the sender meets a closed port and keeps retrying.
            time.sleep(3)
        finally:
            server.start()
        finished = report.finish("success", "survived")
        self.assertEqual(finished["status"], "success")
        self.assertEqual(report.lost, 0)
        points = server.reports(str(report.execution_id), "metric")
        self.assertEqual([point["step"] for point in points], list(range(1000)))

    def test_a_session_key_is_all_a_notebook_needs(self) -> None:
        status, made = server.api(
            "POST", f"/api/projects/{server.project_id}/sessions", {"name": "notebook", "key": True}
        )
        self.assertEqual(status, 201, made)
        with Reporter(server.url, made["key"]["key"], name="from a key", in_step=False) as report:
            report.metric("accuracy", 0.9, step=1)
        execution = server.execution(str(report.execution_id))
        self.assertEqual(execution["session_id"], made["id"])
        self.assertEqual(execution["status"], "success")

    def test_track_decorates_a_function(self) -> None:
        ids: List[str] = []

        @track(url=server.url, token=server.token, project_id=server.project_id, in_step=False, session="decorated")
        def fit(alpha: float) -> float:
            from gbcms_report import current

            ids.append(str(current().execution_id))
            metric("alpha", alpha)
            return alpha * 2

        self.assertEqual(fit(0.5), 1.0)
        execution = server.execution(ids[0])
        self.assertEqual(execution["name"], "ReporterTest.test_track_decorates_a_function.<locals>.fit")
        self.assertEqual(execution["status"], "success")
        self.assertEqual(server.reports(ids[0], "metric")[0]["value"], 0.5)

    def test_junit_results(self) -> None:
        junit = """<testsuites><testsuite name="unit" time="1.5">
<testcase name="ok" classname="a"/><testcase name="bad" classname="a"><failure message="boom">trace</failure></testcase>
<testcase name="skip"><skipped/></testcase></testsuite></testsuites>"""
        with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as file:
            file.write(junit)
        try:
            with reporter(name="junit") as report:
                report.tests(file.name)
        finally:
            os.unlink(file.name)
        [tests] = server.reports(str(report.execution_id), "tests")
        self.assertEqual((tests["tests"], tests["failures"], tests["skipped"]), (3, 1, 1))
        self.assertEqual(tests["duration_ms"], 1500)
        self.assertEqual(tests["failed"][0]["name"], "bad")
        self.assertEqual(tests["failed"][0]["message"], "boom")

    def test_bad_input_is_counted_and_told_never_raised(self) -> None:
        errors: List[ReporterError] = []
        with reporter(name="bad input", on_error=errors.append) as report:
            report.metric("loss", float("nan"))
            report.metric("no spaces allowed", 1.0)
            report.annotation("fatal", "x")
        self.assertEqual(report.lost, 3)
        self.assertEqual(
            [str(e) for e in errors],
            [
                "gbcms report: metric loss: value must be a finite number",
                "gbcms report: metric name 'no spaces allowed' may only hold A-Z a-z 0-9 _ . : / -",
                "gbcms report: annotation level must be notice, warning or error",
            ],
        )
        with mock.patch.dict(os.environ, {}, clear=True):
            with self.assertRaisesRegex(ValueError, r"no server URL: pass url= or set \$GBCMS_URL"):
                Reporter(token="gbcms_token")

    def test_finish_raises_when_the_server_refuses(self) -> None:
        report = reporter(token="gbcms_" + "x" * 43, name="refused", on_error=lambda e: None)
        self.assertIsNone(report.start())
        with self.assertRaisesRegex(ReporterError, "start refused: the API token is invalid or revoked"):
            report.finish("success")


class InStepTest(unittest.TestCase):
    def test_inside_a_step_it_prints_the_protocol(self) -> None:
        code = (
            "from gbcms_report import Reporter\n"
            "with Reporter(name='x') as r:\n"
            "    r.metric('loss', 0.25, step=3)\n"
            "    r.metric('loss', 2.0)\n"
            "    r.progress(1, 4, 'epoch 1')\n"
            "    r.annotation('warning', 'Slow', file='a b.py', line=3)\n"
            "    r.annotation('notice', 'A title', 'two\\nlines')\n"
            "    raise SystemExit(0)\n"
        )
        env = {**os.environ, "GBCMS_STEP": "train"}
        env.pop("GBCMS_URL", None)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=HANG_S)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(
            done.stdout.splitlines(),
            [
                "::gbcms metric name=loss value=0.25 step=3",
                "::gbcms metric name=loss value=2",
                "::gbcms progress 1/4 epoch 1",
                '::gbcms annotation level=warning file="a b.py" line=3 title=Slow',
                '::gbcms annotation level=notice title="A title" message="two\\nlines"',
            ],
        )

    def test_an_exception_inside_a_step_prints_an_error_annotation(self) -> None:
        lines: List[str] = []
        report = Reporter(in_step=True, write=lines.append)
        with self.assertRaises(KeyError):
            with report:
                raise KeyError("alpha")
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].startswith("::gbcms annotation level=error file="), lines[0])
        self.assertIn("title=\"KeyError: 'alpha'\" message=\"Traceback", lines[0])

    def test_lines_match_the_engine_formatter(self) -> None:
        self.assertEqual(format_line({"type": "progress", "done": 0.5, "total": 1}), "::gbcms progress 0.5/1")
        with self.assertRaisesRegex(ValueError, "progress done must be a number from 0 to the total"):
            format_line({"type": "progress", "done": 2, "total": 1})


if __name__ == "__main__":
    unittest.main()
