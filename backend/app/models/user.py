from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.security import new_security_stamp
from app.db.base import Base, UTCDateTime, exact_string, utcnow

if TYPE_CHECKING:
    from app.models.group import Group
    from app.models.item import Item
    from app.models.job import Job


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased: emails are unique without regard to case on every database.
    email: Mapped[str] = mapped_column(exact_string(255), unique=True)
    hashed_password: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    is_superuser: Mapped[bool] = mapped_column(default=False)
    # Whether the owner of `email` proved it is theirs (app/services/verification.py).
    # True in the database's default: accounts made before verification existed.
    email_verified: Mapped[bool] = mapped_column(default=True, server_default="1")
    # A new address asked for, not in use until verified through the link sent to it.
    pending_email: Mapped[str | None] = mapped_column(exact_string(255))
    # A random value that access tokens carry and must match: replaced when the
    # password changes or sessions are revoked, so older tokens stop working; and
    # never equal between two accounts, so a token can only name the account it was
    # issued to, whatever happens to ids.
    security_stamp: Mapped[str] = mapped_column(String(32), default=new_security_stamp)
    # TOTP (app/services/mfa.py): the secret, encrypted (pending until confirmed),
    # when it was confirmed (on from then), and the last time step a code was
    # accepted for (a code works once).
    mfa_secret: Mapped[str | None] = mapped_column(String(255))
    mfa_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mfa_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    groups: Mapped[list[Group]] = relationship(
        secondary="group_members", back_populates="members", order_by="Group.name"
    )
    items: Mapped[list[Item]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )
    jobs: Mapped[list[Job]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def mfa_enabled(self) -> bool:
        return self.mfa_enabled_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"
