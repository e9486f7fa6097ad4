"""Rebuild app/core/data/common-passwords.txt.gz from a Django wheel's list.

    python -m app.devtools.common_passwords django-X.Y.Z-py3-none-any.whl

Keeps the entries a password may be (8 to 128 characters) and writes them
gzip-compressed with no timestamp, so that the same list gives the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import io
import zipfile
from pathlib import Path

from app.core import passwords

DJANGO_LIST = "django/contrib/auth/common-passwords.txt.gz"


def rebuild(wheel: Path, target: Path) -> int:
    """Write the kept entries of the wheel's list to `target`; how many were kept."""
    with zipfile.ZipFile(wheel) as archive:
        text = gzip.decompress(archive.read(DJANGO_LIST)).decode("utf-8")
    kept = [
        line
        for line in dict.fromkeys(entry.strip().lower() for entry in text.splitlines())
        if passwords.MIN_LENGTH <= len(line) <= passwords.MAX_LENGTH
    ]
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as out:
        out.write("".join(f"{line}\n" for line in kept).encode("utf-8"))
    target.write_bytes(buffer.getvalue())
    return len(kept)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="a Django wheel (pip download django --no-deps)")
    parser.add_argument("--output", type=Path, default=passwords.LIST_PATH)
    args = parser.parse_args(argv)
    count = rebuild(args.wheel, args.output)
    print(f"{args.output}: {count} passwords")


if __name__ == "__main__":
    main()
