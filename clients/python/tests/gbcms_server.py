"""A real `gbcms serve` for the client's tests: a fresh data folder, a developer's token, a
project they own, and the server listening on a free port. stop() and start() again keep the
port and the data, so a test can take the server away and bring it back."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[3]
BIN = REPO / "bin" / "gbcms.js"
NODE = os.environ.get("GBCMS_NODE", "node")
# Hang guard only: on a loaded machine things may be slow, never this slow.
HANG_S = float(os.environ.get("GBCMS_HANG_S", "120"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(data: str, *args: str) -> str:
    done = subprocess.run(
        [NODE, str(BIN), *args, "--data", data], capture_output=True, text=True, timeout=HANG_S, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"gbcms {' '.join(args)} failed: {done.stderr}")
    return done.stdout


class GbcmsServer:
    def __init__(self) -> None:
        self.data = tempfile.mkdtemp(prefix="gbcms-py-client-")
        self.token = _cli(self.data, "token", "create", "--role", "developer", "--user", "alice").strip()
        described = _cli(self.data, "project", "create", "notebooks", "--repo", "/srv/git/notebooks.git", "--owner", "alice")
        found = re.search(r"^id:\s+(\S+)", described, re.M)
        if not found:
            raise RuntimeError(f"no project id in: {described}")
        self.project_id = found.group(1)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: Optional[subprocess.Popen[str]] = None
        self._output: List[str] = []
        self._reader: threading.Thread = threading.Thread()

    def start(self) -> None:
        process = subprocess.Popen(
            [NODE, str(BIN), "serve", "--port", str(self.port), "--data", self.data, "--backend", "local",
             "--rate-limit", "100000", "--grace", "1s", "--log-level", "warn"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self._process = process
        listening = threading.Event()

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                self._output.append(line)
                if "listening on" in line:
                    listening.set()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        until = time.monotonic() + HANG_S
        while not listening.wait(0.05):
            if process.poll() is not None or time.monotonic() > until:
                raise RuntimeError("gbcms serve did not start:\n" + "".join(self._output))

    def stop(self) -> None:
        """SIGTERM, as a server being restarted gets; waits until it has exited."""
        if self._process is None:
            return
        self._process.send_signal(signal.SIGTERM)
        self._process.wait(HANG_S)
        self._reader.join(HANG_S)
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)

    def api(self, method: str, path: str, body: Any = None, token: Optional[str] = None) -> Tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"authorization": f"Bearer {token or self.token}"}
        if data is not None:
            headers["content-type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=HANG_S) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def execution(self, execution_id: str) -> Any:
        status, body = self.api("GET", f"/api/executions/{execution_id}")
        assert status == 200, body
        return body

    def reports(self, execution_id: str, kind: str) -> List[Any]:
        status, body = self.api("GET", f"/api/executions/{execution_id}/reports?type={kind}&limit=10000")
        assert status == 200, body
        return [item["report"] for item in body["items"]]

    def wait_for(self, what: str, check: Any) -> Any:
        """Polls `check` until it returns something truthy; fails only after HANG_S."""
        until = time.monotonic() + HANG_S
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > until:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.1)
