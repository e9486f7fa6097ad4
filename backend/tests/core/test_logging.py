"""The log lines' two formats (app/core/logging.py), through the root handler of a
fresh process as the apps set it up, and the setting that chooses between them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime

from app.core.config import BACKEND_DIR

# Logs one line outside any request, one in a request and a job, one with a
# traceback, as the apps would: configure_logging from the settings.
SCRIPT = """
import logging
from app.core import request_context
from app.core.config import Settings
from app.core.logging import configure_logging

settings = Settings()
configure_logging(settings.LOG_LEVEL, settings.log_format)
log = logging.getLogger("app.example")
log.debug("hidden unless DEBUG")
log.info("started with %d parts", 3)
with request_context.bound("edge-req-0042"), request_context.job_bound(7):
    request_context.set_job_kind("demo")
    user = request_context.bind_user(5)
    logging.getLogger("app.workers.jobs").warning("job %s slow", 7)
    request_context.unbind_user(user)
try:
    1 / 0
except ZeroDivisionError:
    log.exception("it broke")
logging.getLogger("app.access").info(
    "GET /api/v1/items/<int:item_id> 200 in 1.5 ms, 10 bytes",
    extra={"method": "GET", "route": "/api/v1/items/<int:item_id>", "status": 200,
           "duration_ms": 1.5, "bytes": 10, "password": "never-shown"},
)
"""


def run_logging(**env: str) -> str:
    """What the script writes to stderr, under these settings."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=BACKEND_DIR,
        env={**os.environ, "ENV_FILE": "/dev/null", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == ""
    return result.stderr


def test_json_format_writes_one_object_a_line_with_the_context_fields() -> None:
    output = run_logging(LOG_FORMAT="json", LOG_LEVEL="INFO")
    lines = [json.loads(line) for line in output.splitlines()]

    assert [line["message"] for line in lines] == [
        "started with 3 parts",
        "job 7 slow",
        "it broke",
        "GET /api/v1/items/<int:item_id> 200 in 1.5 ms, 10 bytes",
    ]
    started, job, broke, access = lines
    assert list(started) == ["time", "level", "logger", "message"]
    assert (started["level"], started["logger"]) == ("info", "app.example")
    assert datetime.fromisoformat(started["time"]).utcoffset() is not None
    assert started["time"].endswith("Z")
    assert job == job | {
        "level": "warning",
        "logger": "app.workers.jobs",
        "request_id": "edge-req-0042",
        "user_id": 5,
        "job_id": 7,
        "job_kind": "demo",
    }
    # Each binding ended with its block.
    assert not {"request_id", "user_id", "job_id", "job_kind"} & set(broke)
    assert broke["level"] == "error"
    assert "ZeroDivisionError: division by zero" in broke["exception"]
    assert access == access | {
        "method": "GET",
        "route": "/api/v1/items/<int:item_id>",
        "status": 200,
        "duration_ms": 1.5,
        "bytes": 10,
    }
    # Only the fields the formatter knows become fields of the line.
    assert "never-shown" not in output


def test_text_format_writes_readable_lines_without_colors_off_a_terminal() -> None:
    output = run_logging(LOG_FORMAT="text", LOG_LEVEL="DEBUG")
    lines = output.splitlines()

    assert "\x1b[" not in output
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert re.fullmatch(rf"{stamp} \[debug\s*\] hidden unless DEBUG\s+\[app\.example\]", lines[0])
    assert re.fullmatch(
        rf"{stamp} \[warning\s*\] job 7 slow\s+\[app\.workers\.jobs\] "
        r"job_id=7 job_kind=demo request_id=edge-req-0042 user_id=5",
        lines[2],
    )
    assert "Traceback (most recent call last):" in output
    # The access line's message says it all: its fields are not repeated.
    assert lines[-1].endswith("10 bytes [app.access]")


def test_server_with_unknown_log_format_refuses_to_start_saying_why() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.web.server", "--port", "1"],
        cwd=BACKEND_DIR,
        env={**os.environ, "ENV_FILE": "/dev/null", "LOG_FORMAT": "bogus"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "LOG_FORMAT" in result.stderr
    assert "'text' or 'json'" in result.stderr
