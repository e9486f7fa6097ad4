"""Free TCP ports on the loopback interface, for servers started by tests, the
browser tests and the benchmarks: `free_ports(3)`, or `python -m app.devtools.ports 3`
(one a line) from a script.

Free when asked: all of them are held open together until every one is chosen,
so that one call never hands out the same port twice. The system chooses them,
unless FREE_PORT_RANGE ("21000-21999") confines them to a range: on a machine
shared with others, each keeps to their own.
"""

from __future__ import annotations

import os
import random
import socket
import sys

LOOPBACK = "127.0.0.1"
RANGE_VARIABLE = "FREE_PORT_RANGE"


def _candidates() -> list[int]:
    """The ports to try, in random order (else the system's choice: 0)."""
    value = os.environ.get(RANGE_VARIABLE, "").strip()
    if not value:
        return [0]
    try:
        low, high = (int(part) for part in value.split("-"))
    except ValueError:
        raise SystemExit(f"{RANGE_VARIABLE}={value!r}: expected two ports, LOW-HIGH") from None
    ports = list(range(low, high + 1))
    random.shuffle(ports)
    return ports


def _bind(sock: socket.socket, host: str, candidates: list[int]) -> None:
    for port in candidates:
        try:
            sock.bind((host, port))
            return
        except OSError:
            if candidates == [0]:
                raise
    raise OSError(f"no free port in {RANGE_VARIABLE}={os.environ.get(RANGE_VARIABLE)}")


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    sockets = []
    candidates = _candidates()
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            _bind(sock, host, candidates)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port(host: str = LOOPBACK) -> int:
    return free_ports(1, host)[0]


if __name__ == "__main__":
    print("\n".join(map(str, free_ports(int(sys.argv[1]) if len(sys.argv) > 1 else 1))))
