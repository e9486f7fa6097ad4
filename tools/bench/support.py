"""What every benchmark needs: ports, a throwaway database, process groups and
CPU accounting from Linux's /proc."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

TICKS = os.sysconf("SC_CLK_TCK")


@contextmanager
def throwaway_database(server_url: str, prefix: str = "bench") -> Iterator[str]:
    """A new empty database on the PostgreSQL server, dropped on exit; yields its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = make_url(server_url).set(drivername="postgresql")
    admin_dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a process that leads its own group, and the whole group with it:
    server workers and pool processes must not outlive it."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def busy_ticks() -> int:
    """CPU time the whole machine has spent busy."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:9]]
    return sum(values) - values[3] - values[4]  # less idle and iowait


def ticks_by(part_of: Callable[[int, bytes], str | None]) -> Counter[str]:
    """CPU time so far of the machine's processes, summed by the part that
    `part_of(process group, command line)` names; processes it names no part
    of (None) are left out."""
    ticks: Counter[str] = Counter()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            command = (proc / "cmdline").read_bytes()
        except OSError:  # it ended meanwhile
            continue
        part = part_of(int(fields[2]), command)
        if part is not None:
            ticks[part] += int(fields[11]) + int(fields[12])  # user + system
    return ticks


def children_seconds() -> float:
    """CPU time of this process's finished children (wrk)."""
    times = os.times()
    return times.children_user + times.children_system
