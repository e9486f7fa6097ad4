"""This project's own models: import the module of each one here.

A project generated with `make new-project` keeps its models in modules of its
own (`app/models/<name>.py`) and lists them in this file, which the base ships
empty and never changes: `make update-from-upstream` then merges the base's
changes to `app/models/__init__.py` without touching this project's list.
`app.models` imports this module last, which registers the tables with
Alembic.

    from app.models.thing import Thing

    __all__ = ["Thing"]
"""

__all__: list[str] = []
