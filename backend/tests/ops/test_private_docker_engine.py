"""The private Docker engine (ci/docker-engine.sh) does not start beside another
project's: both would hand out the same addresses on the same bridge."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[3]


def _wait_until_named_dockerd(pid: int) -> None:
    for _ in range(100):
        if Path(f"/proc/{pid}/comm").read_text().strip() == "dockerd":
            return
        time.sleep(0.05)
    raise AssertionError("the stand-in dockerd did not start")


def test_a_second_projects_engine_refuses_to_start_beside_the_first(tmp_path: Path) -> None:
    # A process named dockerd with another project's arguments: a script that waits.
    fake = tmp_path / "dockerd"
    # (the kernel names a script's process after the script: bash by its path, not env).
    fake.write_text(f"#!{shutil.which('bash')}\nsleep 60 &\nwait\n")
    fake.chmod(0o755)
    # A bridge of the test's own: a real engine on the default one (this project's,
    # or the base's when this is a generated project) is left out of it.
    bridge = f"fftest{os.getpid() % 10000}"
    other = subprocess.Popen(
        [fake, "--bridge", bridge, "--data-root", "/var/lib/other-project/docker/data"],
        start_new_session=True,
    )
    try:
        _wait_until_named_dockerd(other.pid)
        result = subprocess.run(
            ["bash", "-c", "source ci/docker-engine.sh && refuse_another_private_engine"],
            cwd=REPO_DIR,
            env={
                "PATH": os.environ["PATH"],
                "HOME": str(tmp_path),
                "PRIVATE_DOCKER_BRIDGE": bridge,
            },
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    finally:
        os.killpg(other.pid, signal.SIGKILL)
        other.wait()
    assert result.returncode != 0
    assert "/var/lib/other-project/docker" in result.stderr
    assert "make docker-stop" in result.stderr
