from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import db


class NotificationSetting(db.Model):
    """How a person wants the mails of one kind of notice (engine.notifications): at once, in the daily
    digest, or never. No row: at once."""

    __tablename__ = "notification_setting"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(16))       # immediately | daily | never
