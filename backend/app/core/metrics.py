"""Prometheus metrics shared by several processes: prometheus_client's multiprocess
mode, which the API server (granian's worker processes) and each worker node
(Celery's prefork pool) both use.

Each process writes its values to files of its own in one directory; a scrape,
served by any of them, sums the files. The directory is PROMETHEUS_MULTIPROC_DIR
(prometheus_client's variable): the parent process sets it, empty, before it
starts the others, which inherit it. Left unset, a private one is made in the
temporary directory (memory in the images) and removed at exit.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import tempfile
from contextlib import suppress
from pathlib import Path

from prometheus_client import CollectorRegistry, multiprocess, values

logger = logging.getLogger(__name__)

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
# The files of gauges summed over the live processes only: "gauge_livesum_<pid>.db".
_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w*?_(\d+)\.db$")


def prepare_multiprocess_directory(prefix: str) -> Path:
    """Make this process and those it starts from now on share their metrics: an
    empty directory in PROMETHEUS_MULTIPROC_DIR (emptied if it was set: files of an
    earlier run would count again), or a new private one, removed at exit."""
    given = os.environ.get(MULTIPROC_DIR)
    if given:
        directory = Path(given)
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
    else:
        directory = Path(tempfile.mkdtemp(prefix=prefix))
        atexit.register(_remove, directory, os.getpid())
        os.environ[MULTIPROC_DIR] = str(directory)
    # prometheus_client chooses where values live when it is first imported: this
    # process may have imported it before the variable was set. Its own function
    # chooses again, for every metric created from now on.
    values.ValueClass = values.get_value_class()
    return directory


def multiprocess_directory() -> Path | None:
    value = os.environ.get(MULTIPROC_DIR)
    return Path(value) if value else None


def multiprocess_registry(directory: Path) -> CollectorRegistry:
    """A registry that reads every process's files at each scrape."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    return registry


def forget_dead_processes(directory: Path) -> None:
    """Drop the live gauges (in-flight requests, pool connections) of processes
    that are gone, crashed or replaced: else their last values would count for
    ever. Counters and histograms keep their files, so totals never go down."""
    for entry in os.scandir(directory):
        match = _LIVE_GAUGE_FILE.match(entry.name)
        if match and not _alive(int(match.group(1))):
            # Another scrape, in another process, may be removing them too.
            with suppress(FileNotFoundError):
                multiprocess.mark_process_dead(int(match.group(1)), path=str(directory))


def _remove(directory: Path, owner: int) -> None:
    # Only by the process that made it: a forked child may inherit this hook.
    if os.getpid() == owner:
        shutil.rmtree(directory, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's
        return True
    return True
