"""Ceiling (a): the cheapest Flask endpoint there is. What the server and Flask cost
alone, with no database, no authentication and no API framework."""

from __future__ import annotations

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def hello() -> dict[str, str]:
        return {"message": "Hello, World!"}

    return app
