"""`make dev`'s process manager (native mode): runs the processes of a Procfile in
the foreground, says when they all answer, and stops them in order.

    python -m app.devtools.supervisor --procfile FILE [--cwd DIR]
        [--ready LABEL=URL]... [--ping PROCESS=NODE]... [--banner LABEL=VALUE]...
        [--setup LABEL=COMMAND [--after-setup PROCESS]... [--during-setup PROCESS]...
         [--show-setup REGEX]]
        [--started EPOCH] PROCESS...

- Each process runs in a session of its own, so that Ctrl-C reaches this manager
  alone; their output is prefixed with their name.
- It is ready when every URL answers (2xx or 3xx) and every Celery node named
  (`worker=celery`: the process `worker` runs the node `celery@<host>`) answers a
  ping. Meanwhile one line says what is still starting, whenever that changes;
  then the banner, and how long the start took (since --started, when given).
- A setup command (the database's migrations) runs while the processes that do
  not need it start; those named --after-setup start once it has succeeded.
  Those named --during-setup start at once but wait for it before they serve:
  their environment's SETUP_DONE_FILE names a file that appears once it has
  succeeded (the API imports its code meanwhile: app/web/server.py). Of its
  output, only the lines matching --show-setup are shown, all of it if it fails
  (which stops everything).
- Ctrl-C (or SIGTERM) stops the processes in this order, each tier at once and
  each process given STOP_TIMEOUT seconds: the proxy and the frontend (nothing
  new comes in), then the API and Flower, then the workers (their jobs finish),
  then the rest (the mail sink last: a worker may still send). Then it exits 0.
  A second Ctrl-C kills what is left.
- A process that exits on its own stops the others: it exits 1.

Why not honcho, which ran them before: it sends SIGTERM to each process group
at once, so Celery's pool processes died of it before their parent could stop
them (logged as errors) and so did granian's worker ("Unexpected exit"); it
killed whatever still ran 5 s later, and exited 130 after Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

# Seconds each process has to stop after it is asked to, before it is killed:
# Celery's warm shutdown lets a running job finish, and takes a few seconds even
# when idle (its loops wake once a second), several times that on a loaded
# machine. A second Ctrl-C kills at once.
STOP_TIMEOUT = 60.0
# Seconds between two rounds of readiness checks, and each check's own limit.
CHECK_INTERVAL = 0.5
CHECK_TIMEOUT = 2.0
PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")
COLOURS = (36, 33, 32, 35, 34, 96, 93, 92, 95, 94)


def parse_procfile(text: str) -> dict[str, str]:
    """The processes of a Procfile: `name: command` lines; # starts a comment."""
    processes = {}
    for line in text.splitlines():
        match = PROCFILE_LINE.match(line.strip())
        if match and not line.lstrip().startswith("#"):
            processes[match.group(1)] = match.group(2)
    return processes


def stop_tier(name: str) -> int:
    """When a process stops: first what takes requests in, the workers late."""
    if name in ("proxy", "frontend"):
        return 0
    if name in ("api", "flower"):
        return 1
    if name == "worker" or name.startswith("worker-"):
        return 2
    return 3


def pair(text: str) -> tuple[str, str]:
    """`LABEL=VALUE` (an argument type)."""
    label, sep, value = text.partition("=")
    if not sep or not label:
        raise argparse.ArgumentTypeError(f"{text!r}: expected LABEL=VALUE")
    return label, value


class Output:
    """Lines from every process, whole and prefixed, on one stream."""

    def __init__(self, stream: IO[str], width: int) -> None:
        self._stream = stream
        self._width = width
        self._lock = threading.Lock()
        self._colour = stream.isatty() and "NO_COLOR" not in os.environ

    def line(self, name: str, text: str, colour: int = 0) -> None:
        prefix = f"{name:<{self._width}} |"
        if self._colour and colour:
            prefix = f"\033[{colour}m{prefix}\033[0m"
        self.write(f"{prefix} {text}")

    def note(self, text: str) -> None:
        """A line of the manager's own, styled as the scripts' log lines."""
        arrow = "\033[1;34m==>\033[0m" if self._colour else "==>"
        self.write(f"{arrow} {text}")

    def write(self, text: str) -> None:
        with self._lock:
            self._stream.write(text.rstrip("\n") + "\n")
            self._stream.flush()


@dataclass
class Process:
    name: str
    command: str
    colour: int = 0
    popen: subprocess.Popen[bytes] | None = None
    reader: threading.Thread | None = None
    _group_asked: bool = False

    def start(self, cwd: Path, output: Output, env: dict[str, str] | None = None) -> None:
        # exec: the shell becomes the program, which then gets the signals.
        self.popen = subprocess.Popen(  # noqa: S603 (the Procfile is the project's own)
            ["/bin/sh", "-c", f"exec {self.command}"],
            cwd=cwd,
            env=os.environ | {"PYTHONUNBUFFERED": "1"} | (env or {}),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._forward, args=(output,), daemon=True)
        self.reader.start()

    def _forward(self, output: Output) -> None:
        assert self.popen is not None and self.popen.stdout is not None
        for raw in self.popen.stdout:
            output.line(self.name, raw.decode(errors="replace").rstrip(), self.colour)

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def exit_code(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    @property
    def watched(self) -> bool:
        """Whether it runs under watchfiles, which restarts its program on change
        (after `env NAME=value...`, if the line starts so)."""
        words = shlex.split(self.command)
        if words and words[0] == "env":
            words = list(itertools.dropwhile(lambda word: "=" in word, words[1:]))
        return bool(words) and os.path.basename(words[0]) == "watchfiles"

    def ask_to_stop(self) -> None:
        """SIGTERM to the program alone: it stops its own children (Celery its pool,
        granian its workers), which a signal to the whole group would kill first.

        Under watchfiles, the program it runs is asked (watchfiles would send it
        SIGINT, which Celery answers with a cold-shutdown warning); watchfiles
        itself is killed once that program has stopped (see `finish_stop`)."""
        if self.exit_code() is not None:
            return
        targets = [self.pid]
        if self.watched:
            targets = [child.pid for child in self._running_children()]
        for pid in targets:
            send(pid, signal.SIGTERM)

    def finish_stop(self) -> bool:
        """Whether it has stopped, with whatever it started in its session.

        What a program leaves behind there (npm leaves Vite) is asked to stop in
        turn. Under watchfiles, once its program has exited, watchfiles has nothing
        left to do and is killed (a TERM would make it log a warning)."""
        if self.exit_code() is not None:
            if not group_alive(self.pid):
                return True
            if not self._group_asked:
                send_group(self.pid, signal.SIGTERM)
                self._group_asked = True
            return False
        if self.watched and not self._running_children():
            send_group(self.pid, signal.SIGKILL)
        return False

    def _running_children(self) -> list[psutil.Process]:
        """Its children still running: one that exited stays a zombie until its
        parent reaps it, which watchfiles does only when it next looks."""
        try:
            children = psutil.Process(self.pid).children()
        except psutil.NoSuchProcess:
            return []
        running = []
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                if child.status() != psutil.STATUS_ZOMBIE:
                    running.append(child)
        return running

    def kill(self) -> None:
        """SIGKILL to its whole session (its children and theirs)."""
        send_group(self.pid, signal.SIGKILL)

    def wait_output(self) -> None:
        if self.reader is not None:
            self.reader.join(timeout=1)


def send(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def group_alive(pgid: int) -> bool:
    """Whether a process of group `pgid` still runs. Zombies do not: an orphan
    (multiprocessing's resource tracker, say) waits there for init to reap it,
    which in a container may take a while or never happen."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    for process in psutil.process_iter(["status"]):
        with contextlib.suppress(psutil.Error, OSError):
            if process.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(process.pid) == pgid:
                return True
    return False


def send_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def url_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=CHECK_TIMEOUT) as response:  # noqa: S310
            return bool(200 <= response.status < 400)
    except (urllib.error.URLError, OSError, ValueError):
        return False


class CeleryPings:
    """Which Celery nodes answer a ping now (their names before the @), over the
    app's own broker settings: those the processes run with.

    The app is imported when first asked, so that the processes start at once."""

    def __init__(self) -> None:
        self._control: Any = None

    def __call__(self) -> set[str]:
        if self._control is None:
            from app.core.config import get_settings
            from app.queue import TaskQueue

            self._control = TaskQueue(get_settings()).celery.control
        try:
            replies = self._control.ping(timeout=1.0) or []
        except Exception:  # a broker not up yet: ask again
            return set()
        return {node.split("@", 1)[0] for reply in replies for node in reply}


@dataclass
class Readiness:
    """What must answer before the banner: URLs by label, and Celery nodes by the
    label of the process that runs them (one ping a round asks every node)."""

    urls: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, str] = field(default_factory=dict)
    pings: Callable[[], set[str]] = field(default_factory=CeleryPings)

    @property
    def labels(self) -> list[str]:
        return [*self.urls, *self.nodes]

    def pending(self, among: Iterable[str]) -> list[str]:
        """The labels among `among` that do not answer yet."""
        among = list(among)
        waiting = {
            label for label in among if label in self.urls and not url_answers(self.urls[label])
        }
        # The nodes are asked once every URL answers: the first ping imports the
        # app's queue here, CPU the API and the page need more while they start.
        nodes = [label for label in among if label in self.nodes]
        if nodes and waiting:
            waiting.update(nodes)
        elif nodes:
            answering = self.pings()
            waiting.update(label for label in nodes if self.nodes[label] not in answering)
        return [label for label in among if label in waiting]


@dataclass
class Setup:
    """A command that runs to its end before some processes start."""

    label: str
    command: str
    show: re.Pattern[str] | None = None
    after: set[str] = field(default_factory=set)
    during: set[str] = field(default_factory=set)
    popen: subprocess.Popen[bytes] | None = None
    # Appears once the command has succeeded (SETUP_DONE_FILE of those `during`).
    done_file: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="dev-setup-")) / "done"
    )

    def run(self, cwd: Path) -> tuple[int, list[str]]:
        self.popen = subprocess.Popen(  # noqa: S603 (the project's own command)
            ["/bin/sh", "-c", f"exec {self.command}"],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        output, _ = self.popen.communicate()
        return self.popen.returncode, output.decode(errors="replace").splitlines()

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            send_group(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=STOP_TIMEOUT)
            send_group(self.popen.pid, signal.SIGKILL)


@dataclass
class Supervisor:
    processes: list[Process]
    cwd: Path
    readiness: Readiness = field(default_factory=Readiness)
    banner: list[tuple[str, str]] = field(default_factory=list)
    output: Output = field(default_factory=lambda: Output(sys.stdout, 8))
    stop_timeout: float = STOP_TIMEOUT
    setup: Setup | None = None
    # When the start began (time.time()): by default, when this manager did.
    started: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    # Held while processes start, so that none starts once stopping has begun.
    _starting: threading.Lock = field(default_factory=threading.Lock)
    _setup_failed: bool = False
    _signals: int = 0

    def run(self) -> int:
        started = time.time() if self.started is None else self.started
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        later = self.setup.after if self.setup else set()
        self._start([p for p in self.processes if p.name not in later])
        if self.setup is not None:
            threading.Thread(target=self._run_setup, args=(self.setup,), daemon=True).start()
        threading.Thread(target=self._watch_readiness, args=(started,), daemon=True).start()
        failed = None
        while not self._stop.wait(0.1):
            failed = next((p for p in self.processes if p.exit_code() is not None), None)
            if failed is not None:
                self.output.note(
                    f"{failed.name} exited (code {failed.exit_code()}): stopping the others"
                )
                break
        self._stop.set()
        with self._starting:
            if self.setup is not None:
                self.setup.stop()
            self.stop_all()
            if self.setup is not None:
                shutil.rmtree(self.setup.done_file.parent, ignore_errors=True)
        return 1 if failed is not None or self._setup_failed else 0

    def _start(self, processes: list[Process]) -> None:
        with self._starting:
            if self._stop.is_set():
                return
            for process in processes:
                env = None
                if self.setup is not None and process.name in self.setup.during:
                    env = {"SETUP_DONE_FILE": str(self.setup.done_file)}
                process.start(self.cwd, self.output, env)

    def _run_setup(self, setup: Setup) -> None:
        code, lines = setup.run(self.cwd)
        if self._stop.is_set():
            return
        for line in lines:
            if code != 0 or (setup.show is not None and setup.show.search(line)):
                self.output.line(setup.label, line)
        if code != 0:
            self.output.note(f"{setup.label} failed (code {code}): stopping the others")
            self._setup_failed = True
            self._stop.set()
            return
        setup.done_file.touch()
        self._start([p for p in self.processes if p.name in setup.after])

    def _on_signal(self, signum: int, frame: object) -> None:
        self._signals += 1
        if self._signals == 1:
            self._stop.set()
        else:
            for process in self.processes:
                process.kill()

    def _watch_readiness(self, started: float) -> None:
        pending = self.readiness.labels
        if pending:
            self.output.note(f"waiting for: {', '.join(pending)}")
        said = pending
        while pending and not self._stop.is_set():
            pending = self.readiness.pending(pending)
            # A check that was under way when Ctrl-C came says nothing more.
            if pending and pending != said and not self._stop.is_set():
                self.output.note(f"waiting for: {', '.join(pending)}")
                said = pending
            if pending:
                self._stop.wait(CHECK_INTERVAL)
        if self._stop.is_set():
            return
        self.print_banner(time.time() - started)

    def print_banner(self, seconds: float) -> None:
        width = max((len(label) for label, _ in self.banner), default=0) + 2
        lines = [f"  {label:<{width}} {value}" for label, value in self.banner]
        self.output.write("\n" + "\n".join([*lines, ""]))
        self.output.note(f"ready in {seconds:.1f} s; Ctrl-C stops everything")

    def stop_all(self) -> None:
        """Stop the processes tier by tier (stop_tier); a process still running
        after stop_timeout is killed, and said to be."""
        stopping = time.monotonic()
        running = [p for p in self.processes if p.popen is not None]
        if any(p.exit_code() is None for p in running):
            self.output.note("stopping (Ctrl-C again kills what is left)")
        for _, tier in itertools.groupby(
            sorted(running, key=lambda p: stop_tier(p.name)), key=lambda p: stop_tier(p.name)
        ):
            self._stop_tier(list(tier))
        for process in running:
            # Whatever a program left behind in its session (none should).
            send_group(process.pid, signal.SIGKILL)
            process.wait_output()
        self.output.note(f"stopped in {time.monotonic() - stopping:.1f} s")

    def _stop_tier(self, tier: list[Process]) -> None:
        for process in tier:
            process.ask_to_stop()
        deadline = time.monotonic() + self.stop_timeout
        while True:
            # Each one's step taken, not only up to the first still running.
            stopped = [process.finish_stop() for process in tier]
            if all(stopped):
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        for process, done in zip(tier, stopped, strict=True):
            if not done:
                self.output.note(
                    f"{process.name} did not stop within {self.stop_timeout:.0f} s: killed"
                )
                process.kill()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.devtools.supervisor")
    parser.add_argument("--procfile", type=Path, required=True)
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="where the processes run")
    parser.add_argument("--ready", type=pair, action="append", default=[], metavar="LABEL=URL")
    parser.add_argument("--ping", type=pair, action="append", default=[], metavar="PROCESS=NODE")
    parser.add_argument("--banner", type=pair, action="append", default=[], metavar="LABEL=VALUE")
    parser.add_argument("--setup", type=pair, metavar="LABEL=COMMAND")
    parser.add_argument("--after-setup", action="append", default=[], metavar="PROCESS")
    parser.add_argument("--during-setup", action="append", default=[], metavar="PROCESS")
    parser.add_argument("--show-setup", type=re.compile, metavar="REGEX")
    parser.add_argument("--started", type=float, metavar="EPOCH", help="when the start began")
    parser.add_argument("names", nargs="+", metavar="PROCESS")
    args = parser.parse_args(argv)
    procfile = parse_procfile(args.procfile.read_text())
    unknown = [name for name in args.names if name not in procfile]
    if unknown:
        parser.error(f"not in {args.procfile}: {', '.join(unknown)}")
    processes = [
        Process(name, procfile[name], colour)
        for name, colour in zip(args.names, itertools.cycle(COLOURS), strict=False)
    ]
    setup = None
    if args.setup is not None:
        label, command = args.setup
        setup = Setup(
            label,
            command,
            show=args.show_setup,
            after=set(args.after_setup),
            during=set(args.during_setup),
        )
    supervisor = Supervisor(
        processes,
        cwd=args.cwd,
        readiness=Readiness(urls=dict(args.ready), nodes=dict(args.ping)),
        banner=args.banner,
        output=Output(sys.stdout, max(map(len, [*args.names, setup.label if setup else ""]))),
        setup=setup,
        started=args.started,
    )
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
