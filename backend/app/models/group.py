from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, exact_string

if TYPE_CHECKING:
    from app.models.user import User

group_members = Table(
    "group_members",
    Base.metadata,
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique without regard to case: checked in code (services.groups), the same on
    # every database; the column itself compares exactly.
    name: Mapped[str] = mapped_column(exact_string(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)

    grants: Mapped[list[GroupPermission]] = relationship(
        back_populates="group",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="GroupPermission.permission",
    )
    members: Mapped[list[User]] = relationship(
        secondary=group_members, back_populates="groups", order_by="User.email"
    )

    @property
    def permissions(self) -> list[str]:
        return [grant.permission for grant in self.grants]

    def __repr__(self) -> str:
        return f"<Group {self.id} {self.name}>"


class GroupPermission(Base):
    """One permission (a name from the catalog) granted to a group."""

    __tablename__ = "group_permissions"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    permission: Mapped[str] = mapped_column(String(64), primary_key=True)

    group: Mapped[Group] = relationship(back_populates="grants")
