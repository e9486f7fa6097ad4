"""Passwords people may choose: 8 to 128 characters, and not one of the most common.

NIST SP 800-63B (5.1.1.2) asks a verifier to refuse passwords found in lists of
commonly used or breached values, and to impose no composition rules. The list is
`data/common-passwords.txt.gz` (its source and licence are in `data/README.md`); the
frontend ships a copy of it, generated from this file (frontend/scripts/common-passwords.mjs).
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

MIN_LENGTH = 8
MAX_LENGTH = 128
TOO_COMMON = "This password is too common: choose a less predictable one."

# Beside this module (package data), read by path: importlib.resources would cost
# more to import than the list costs to read.
LIST_PATH = Path(__file__).with_name("data") / "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    """The list, lower-cased, one entry a line: read on first use (about 8,400
    entries, a few milliseconds and about 2 MB), never at import, so that starting a
    process that sets no password costs nothing."""
    text = gzip.decompress(LIST_PATH.read_bytes()).decode("utf-8")
    return frozenset(text.splitlines())


def is_common(password: str) -> bool:
    """Whether `password` is on the list, in any case ("Password1" as "password1").
    Compared as given: surrounding spaces make another password, as they do at login."""
    return password.lower() in common_passwords()
