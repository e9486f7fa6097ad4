"""The directory of the multiprocess metrics (app/core/metrics.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from prometheus_client import values

from app.core import metrics


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No PROMETHEUS_MULTIPROC_DIR, a temporary directory of the test's own, and
    prometheus_client's choice of value class restored afterwards."""
    # Set first, so that whatever the code under test sets is undone too.
    monkeypatch.setenv(metrics.MULTIPROC_DIR, "")
    monkeypatch.delenv(metrics.MULTIPROC_DIR)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(values, "ValueClass", values.ValueClass)
    return tmp_path


def dead_pid() -> int:
    process = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(process.stdout)


def test_prepare_removes_the_directories_of_killed_processes_only(
    private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    orphan = private_tmp / f"api-metrics-{dead_pid()}-abc"
    living = private_tmp / f"api-metrics-{os.getppid()}-def"
    for folder in (orphan, living):
        folder.mkdir()

    directory = metrics.prepare_multiprocess_directory("api-metrics-")

    assert not orphan.exists()
    assert living.exists()
    assert directory.name.startswith(f"api-metrics-{os.getpid()}-")
    assert os.environ[metrics.MULTIPROC_DIR] == str(directory)


def test_prepare_empties_the_directory_it_is_given(
    private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = private_tmp / "given"
    given.mkdir()
    (given / "counter_1.db").write_bytes(b"old")
    monkeypatch.setenv(metrics.MULTIPROC_DIR, str(given))

    assert metrics.prepare_multiprocess_directory("api-metrics-") == given
    assert list(given.iterdir()) == []
