"""The web layer: the Flask application and its REST API."""

from app.web.application import create_app

__all__ = ["create_app"]
