from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class PersonalAccessToken(Base):
    """A long-lived bearer token a user made for scripts, limited to some of their
    permissions. Stored as its keyed hash (`PersonalTokenCodec`); revoking deletes it."""

    __tablename__ = "personal_access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # Permission names separated by spaces (catalog names have none): a short list
    # read with the token on every request, never queried by its parts.
    permission_names: Mapped[str] = mapped_column(String(500), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def permissions(self) -> list[str]:
        return self.permission_names.split()
