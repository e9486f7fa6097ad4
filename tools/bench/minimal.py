"""Ceiling (b): the least code doing what GET /api/v1/users/me does.

Decode the HS256 bearer token with PyJWT, read the user's row by primary key with
SQLAlchemy 2 and psycopg 3, answer JSON. Reads DATABASE_URL and SECRET_KEY from the
environment, like the API, so it serves the API's tokens from the API's database.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import jwt
from flask import Flask, abort, request
from sqlalchemy import String, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool]
    is_superuser: Mapped[bool]
    security_stamp: Mapped[str]
    created_at: Mapped[datetime]


def create_app() -> Flask:
    url = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql+psycopg")
    sessions = sessionmaker(bind=create_engine(url, pool_size=10, max_overflow=5))
    key = os.environ["SECRET_KEY"]
    app = Flask(__name__)

    @app.get("/me")
    def me() -> dict[str, Any]:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            claims = jwt.decode(token, key, algorithms=["HS256"])
        except jwt.PyJWTError:
            abort(401)
        session: Session
        with sessions() as session:
            user = session.get(User, int(claims["sub"]))
            if (
                scheme.lower() != "bearer"
                or user is None
                or not user.is_active
                or user.security_stamp != claims.get("stamp")
            ):
                abort(401)
            return {
                "id": user.id,
                "email": user.email,
                "full_name": user.full_name,
                "is_active": user.is_active,
                "is_superuser": user.is_superuser,
                "created_at": user.created_at.isoformat(),
            }

    return app
