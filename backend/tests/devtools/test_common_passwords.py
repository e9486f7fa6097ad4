"""Rebuilding the list of common passwords from a Django wheel."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

from app.devtools.common_passwords import DJANGO_LIST, rebuild


def _wheel(path: Path, entries: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(DJANGO_LIST, gzip.compress("\n".join(entries).encode()))
    return path


def test_rebuild_keeps_lowercased_entries_a_password_may_be_once(tmp_path: Path) -> None:
    wheel = _wheel(
        tmp_path / "django.whl",
        ["123456", "password1", "Password1", "iloveyou", "x" * 129, "sunshine123"],
    )
    target = tmp_path / "list.txt.gz"

    assert rebuild(wheel, target) == 3
    assert gzip.decompress(target.read_bytes()).decode() == "password1\niloveyou\nsunshine123\n"


def test_rebuild_twice_writes_the_same_bytes(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "django.whl", ["password1", "iloveyou"])
    first, second = tmp_path / "a.gz", tmp_path / "b.gz"
    rebuild(wheel, first)
    rebuild(wheel, second)
    assert first.read_bytes() == second.read_bytes()
