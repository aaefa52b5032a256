from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from engine.db import UTCDateTime, db, utcnow


class Group(db.Model):
    """A candidate group of BPMN user tasks (`camunda:candidateGroups`), and a role."""

    __tablename__ = "group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")


class Membership(db.Model):
    __tablename__ = "membership"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("group.id", ondelete="CASCADE"), primary_key=True,
                                          index=True)


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    language: Mapped[str] = mapped_column(String(8), default="de")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation = relationship("Organisation", foreign_keys=[organisation_id])
    groups = relationship("Group", secondary="membership", lazy="selectin", order_by="Group.name")
    # Unread notifications (capped), read with the session's user for every page's header
    # (engine.users.session_user); None where a user is loaded otherwise.
    unread_notifications: Mapped[int | None] = query_expression()

    @property
    def group_names(self) -> set[str]:
        return {group.name for group in self.groups}

    def in_group(self, *names: str) -> bool:
        # asked several times a page (engine.access): no set of all the names made for each question
        return any(group.name in names for group in self.groups)

    @property
    def organisation_kind(self) -> str | None:
        return self.organisation.kind if self.organisation is not None else None

    @property
    def is_active(self):
        return self.active

    def __repr__(self):
        return f"<User {self.username}>"
