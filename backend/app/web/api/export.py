"""Write the API's OpenAPI 3.1 document to a file, without a server:

    python -m app.web.api.export openapi.json

The app is built in-process on an in-memory SQLite database, with settings from
here only (no .env, no environment), so the documents are the same on every
machine: the frontend's client is generated from it (frontend/scripts/).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.core.config import Settings
from app.web import create_app


def export(path: str) -> str:
    app = create_app(Settings(_env_file=None, DATABASE_URL="sqlite://"))
    response = app.test_client().get(path)
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    return json.dumps(response.get_json(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.web.api.export", description=__doc__)
    parser.add_argument("output", type=Path, help="where to write it")
    args = parser.parse_args(argv)
    args.output.write_text(export("/api/v1/openapi.json"), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
