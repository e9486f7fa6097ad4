"""Apps built with settings other than the suite's, sharing its database."""

from __future__ import annotations

import dataclasses

from flask import Flask

from app.queue import TaskQueue
from app.runtime import Runtime
from app.web import create_app
from tests.conftest import make_settings


def app_with_settings(runtime: Runtime, **overrides: object) -> Flask:
    """A fresh app on the suite's database and engine, with some settings changed
    (and its own task queue, which follows the broker settings)."""
    settings = make_settings(runtime.settings.DATABASE_URL, **overrides)
    return create_app(
        runtime=dataclasses.replace(runtime, settings=settings, queue=TaskQueue(settings))
    )
