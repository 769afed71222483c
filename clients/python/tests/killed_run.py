"""Run by the SIGKILL test: starts an execution, reports, prints its id, then computes quietly
(heartbeats only) until it is killed."""
import sys
import time

from gbcms_report import Reporter

url, token, project = sys.argv[1:4]
report = Reporter(url, token, project_id=project, name="killed", heartbeat_timeout=10)
execution = report.start()
assert execution is not None
report.metric("loss", 1.0, step=0)
report.flush()
print(execution["id"], flush=True)
while True:
    time.sleep(1)
