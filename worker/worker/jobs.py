"""The runners of the kinds this module runs on the `jobs` queue (app/kinds/default.py)."""

from __future__ import annotations

import time
from typing import Any

from app.kinds.default import DemoParams
from app.workers import JobFailed, RunningJob

DEMO_STEPS = 10


def run_demo(job: RunningJob[DemoParams]) -> dict[str, Any]:
    """Sleep `seconds` in steps, reporting progress; fail at the end when asked.
    A 0-second job has no steps: finishing it sets progress to 100."""
    seconds = job.params.seconds
    if seconds:
        for step in range(1, DEMO_STEPS + 1):
            time.sleep(seconds / DEMO_STEPS)
            job.progress(step * 100 // DEMO_STEPS)
    if job.params.fail:
        raise JobFailed("The demo job failed, as asked")
    return {"slept": seconds}
