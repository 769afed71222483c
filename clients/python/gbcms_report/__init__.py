"""Report metrics, progress, annotations, test results and the outcome of long-running code
(a notebook, a simulation, a training job) to a gbcms server, or as `::gbcms` lines inside a
gbcms step. Standard library only.

    from gbcms_report import Reporter

    with Reporter("https://ci.example.com", "gbcmsk_...", name="ridge alpha=0.1") as report:
        for epoch in range(10):
            report.metric("loss", train(epoch), step=epoch)
            report.progress(epoch + 1, 10)
"""
from ._http import HttpReporter, ReporterError
from ._junit import tests_from_junit
from ._lines import format_line
from ._reporter import Reporter, annotation, current, metric, progress, track
from ._validate import report_problem

__all__ = [
    "HttpReporter",
    "Reporter",
    "ReporterError",
    "annotation",
    "current",
    "format_line",
    "metric",
    "progress",
    "report_problem",
    "tests_from_junit",
    "track",
]
__version__ = "0.1.0"
