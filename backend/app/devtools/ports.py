"""Free TCP ports on the loopback interface, for servers started by tests, the
browser tests and the benchmarks: `free_ports(3)`, or `python -m app.devtools.ports 3`
(one a line) from a script.

Free when asked: all of them are held open together until every one is chosen,
so that one call never hands out the same port twice.
"""

from __future__ import annotations

import socket
import sys

LOOPBACK = "127.0.0.1"


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port(host: str = LOOPBACK) -> int:
    return free_ports(1, host)[0]


if __name__ == "__main__":
    print("\n".join(map(str, free_ports(int(sys.argv[1]) if len(sys.argv) > 1 else 1))))
