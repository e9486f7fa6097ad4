"""The web layer: the Flask application and its REST API.

`create_app` is imported on first use, not with the package: the server's parent
process (app.web.server) imports this package but never the app, so that it
starts quickly and every worker it spawns imports the code afresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.web.application import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from app.web.application import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
