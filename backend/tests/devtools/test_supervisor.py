"""make dev's process manager (app/devtools/supervisor.py) on stand-in processes:
the banner only once everything answers, the stop order, the signal each program
gets (watchfiles' program included), the exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.config import REPO_DIR
from app.devtools.ports import free_port
from app.devtools.supervisor import group_alive, parse_procfile

WATCHFILES = Path(sys.executable).parent / "watchfiles"
# A stand-in program: says it is up, and on a signal records which one and exits.
PROGRAM = """
import pathlib, signal, sys, time
name, log = sys.argv[1], pathlib.Path(sys.argv[2])
def stop(signum, frame):
    with log.open("a") as file:
        file.write(f"{name} {signal.Signals(signum).name}\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
print(f"{name} up", flush=True)
while True:
    time.sleep(0.05)
"""


def supervise(tmp_path: Path, procfile: str, *args: str) -> subprocess.Popen[str]:
    (tmp_path / "Procfile").write_text(procfile)
    return subprocess.Popen(
        [sys.executable, "-m", "app.devtools.supervisor", "--procfile", str(tmp_path / "Procfile"),
         "--cwd", str(tmp_path), *args],
        cwd=REPO_DIR / "backend",
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )  # fmt: skip


def stand_in(tmp_path: Path, name: str) -> str:
    (tmp_path / "program.py").write_text(PROGRAM)
    return f"{sys.executable} program.py {name} {tmp_path / 'signals.log'}"


def interrupt_when(run: subprocess.Popen[str], *texts: str, timeout: float = 30) -> str:
    """Ctrl-C once each of `texts` is in the output; the whole output."""
    assert run.stdout is not None
    seen: list[str] = []
    text = ", ".join(texts)
    deadline = time.monotonic() + timeout
    for line in run.stdout:
        seen.append(line)
        if all(any(each in line for line in seen) for each in texts):
            break
        assert time.monotonic() < deadline, "".join(seen)
    else:
        pytest.fail(f"exited before {text!r}:\n{''.join(seen)}")
    os.killpg(run.pid, signal.SIGINT)
    rest, _ = run.communicate(timeout=30)
    return "".join(seen) + rest


def test_procfile_lines_and_comments() -> None:
    assert parse_procfile("# a: no\nweb: serve --port 1\n\n  mail:  sink  \nbad line\n") == {
        "web": "serve --port 1",
        "mail": "sink",
    }


def test_stops_in_order_with_sigterm_and_exits_0(tmp_path: Path) -> None:
    names = ["mail", "worker", "api", "proxy", "frontend", "worker-ml"]
    procfile = "".join(f"{name}: {stand_in(tmp_path, name)}\n" for name in names)
    run = supervise(tmp_path, procfile, *names)
    output = interrupt_when(run, *(f"{name} up" for name in names))
    assert run.returncode == 0, output
    lines = (tmp_path / "signals.log").read_text().splitlines()
    assert all(line.endswith(" SIGTERM") for line in lines), lines
    order = [line.split()[0] for line in lines]
    # Each tier after the one before; within one, any order.
    tiers = [{"proxy", "frontend"}, {"api"}, {"worker", "worker-ml"}, {"mail"}]
    assert [set(order[0:2]), {order[2]}, set(order[3:5]), {order[5]}] == tiers
    assert "stopped in" in output


@pytest.mark.parametrize("prefix", ["", "env WORKER_METRICS_PORT=0 "])
def test_watchfiles_program_gets_sigterm_and_watchfiles_says_nothing(
    tmp_path: Path, prefix: str
) -> None:
    program = stand_in(tmp_path, "worker")
    procfile = f'worker: {prefix}{WATCHFILES} --verbosity warning "{program}" {tmp_path / "src"}\n'
    (tmp_path / "src").mkdir()
    run = supervise(tmp_path, procfile, "worker")
    output = interrupt_when(run, "worker up")
    assert run.returncode == 0, output
    # Not watchfiles' SIGINT, which Celery answers with a cold-shutdown warning.
    assert (tmp_path / "signals.log").read_text() == "worker SIGTERM\n"
    assert "KeyboardInterrupt" not in output and "killed" not in output


def test_banner_waits_for_every_url(tmp_path: Path) -> None:
    port = free_port()
    # A web server that answers 1.5 s after it starts.
    server = f"sleep 1.5 && {sys.executable} -m http.server --bind 127.0.0.1 {port}"
    procfile = f"web: sh -c {server!r}\n"
    run = supervise(
        tmp_path, procfile, "--ready", f"page=http://127.0.0.1:{port}/", "--banner", "App=here",
        "web",
    )  # fmt: skip
    output = interrupt_when(run, "ready in")
    lines = output.splitlines()
    waiting = [i for i, line in enumerate(lines) if "waiting for: page" in line]
    banner = next(i for i, line in enumerate(lines) if line.split() == ["App", "here"])
    # One line while waiting (not one per check), then the banner.
    assert len(waiting) == 1 and waiting[0] < banner
    assert run.returncode == 0


def test_a_process_that_exits_stops_the_others_and_fails(tmp_path: Path) -> None:
    procfile = f"api: {stand_in(tmp_path, 'api')}\nbroken: sh -c 'sleep 0.5; exit 3'\n"
    run = supervise(tmp_path, procfile, "api", "broken")
    output, _ = run.communicate(timeout=30)
    assert run.returncode == 1
    assert "broken exited (code 3): stopping the others" in output
    assert (tmp_path / "signals.log").read_text() == "api SIGTERM\n"


def test_setup_runs_before_the_processes_that_need_it(tmp_path: Path) -> None:
    # The setup leaves a mark 1 s in; the process after it finds the mark, the
    # other one is up before it.
    mark = tmp_path / "migrated"
    setup = f"sh -c 'echo noise; sleep 1; echo Running upgrade a to b; touch {mark}'"
    procfile = (
        f"api: sh -c 'test -e {mark} && exec {stand_in(tmp_path, 'api')}'\n"
        f"frontend: {stand_in(tmp_path, 'frontend')}\n"
    )
    run = supervise(
        tmp_path, procfile, "--setup", f"prestart={setup}", "--after-setup", "api",
        "--show-setup", "Running upgrade", "api", "frontend",
    )  # fmt: skip
    output = interrupt_when(run, "api up", "frontend up")
    assert run.returncode == 0, output
    lines = output.splitlines()
    assert lines.index("frontend | frontend up") < lines.index("api      | api up")
    # Of the setup's output, only the lines asked for.
    assert "prestart | Running upgrade a to b" in lines
    assert "noise" not in output


def test_a_process_during_setup_starts_at_once_and_learns_when_it_is_done(
    tmp_path: Path,
) -> None:
    # "api" starts before the setup's mark exists, is told the file that says it
    # is done, and sees that file only once the mark is there.
    mark = tmp_path / "migrated"
    setup = f"sh -c 'sleep 1; touch {mark}'"
    waits = (
        f"test ! -e {mark} && echo started early"
        f' && while ! test -e "$SETUP_DONE_FILE"; do sleep 0.05; done'
        f" && test -e {mark} && exec {stand_in(tmp_path, 'api')}"
    )
    procfile = f"api: sh -c '{waits}'\nworker: {stand_in(tmp_path, 'worker')}\n"
    run = supervise(
        tmp_path, procfile, "--setup", f"prestart={setup}", "--during-setup", "api",
        "--after-setup", "worker", "api", "worker",
    )  # fmt: skip
    output = interrupt_when(run, "api up", "worker up")
    assert run.returncode == 0, output
    lines = output.splitlines()
    assert "api      | started early" in lines
    assert lines.index("api      | started early") < lines.index("api      | api up")


def test_a_failed_setup_shows_its_output_and_stops_everything(tmp_path: Path) -> None:
    procfile = f"api: {stand_in(tmp_path, 'api')}\nfrontend: {stand_in(tmp_path, 'frontend')}\n"
    run = supervise(
        tmp_path, procfile, "--setup", "prestart=sh -c 'sleep 1; echo no database; exit 2'",
        "--after-setup", "api", "api", "frontend",
    )  # fmt: skip
    output, _ = run.communicate(timeout=30)
    assert run.returncode == 1, output
    assert "prestart | no database" in output
    assert "prestart failed (code 2): stopping the others" in output
    # The process that needed it never started; the other one (up by then) was stopped.
    assert "api up" not in output
    assert (tmp_path / "signals.log").read_text() == "frontend SIGTERM\n"


def test_a_group_whose_last_process_is_a_zombie_has_stopped() -> None:
    # A process of a session of its own that has exited but is not yet reaped: its
    # group still "exists" for kill(), yet nothing in it runs.
    process = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        assert group_alive(process.pid)
        os.kill(process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the process never became a zombie"
            time.sleep(0.01)
        os.killpg(process.pid, 0)  # the group is still there
        assert not group_alive(process.pid)
    finally:
        process.kill()
        process.wait()
    assert not group_alive(process.pid)
