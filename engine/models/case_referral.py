from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import db


class CaseReferral(db.Model):
    """A referral an employer journey made (its `referrals` variable), kept with `case.facts` by
    engine.report.keep_facts so the funder's report counts them in the database."""

    __tablename__ = "case_referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(128), default="")
    partner: Mapped[str] = mapped_column(String(128))
    partner_type: Mapped[str] = mapped_column(String(64))
    referred_on: Mapped[date | None] = mapped_column(Date, index=True)
    contact_made: Mapped[bool] = mapped_column(Boolean, default=False)
