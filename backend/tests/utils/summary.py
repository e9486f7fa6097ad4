"""A plugin that writes the run's counts and its commonest skip reasons to the file
TEST_SUMMARY_FILE names, for `make test`'s closing summary. (A server that cannot be
reached shows there: its tests skip saying so.)"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

SHOWN_REASONS = 5


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    target = os.environ.get("TEST_SUMMARY_FILE")
    if not target:
        return
    stats = terminalreporter.stats
    count = {key: len(stats.get(key, [])) for key in ("passed", "failed", "error", "skipped")}
    lines = [
        f"{count['passed']} passed, {count['failed'] + count['error']} failed, "
        f"{count['skipped']} skipped"
    ]
    reasons: Counter[str] = Counter()
    for report in stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    lines += [f"  {n} skipped: {reason}" for reason, n in reasons.most_common(SHOWN_REASONS)]
    Path(target).write_text("\n".join(lines) + "\n", encoding="utf-8")
