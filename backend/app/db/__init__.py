"""Database plumbing: declarative base, engine and session factory. No Flask here."""

from app.db.base import Base
from app.db.session import create_db_engine, create_session_factory

__all__ = ["Base", "create_db_engine", "create_session_factory"]
