from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DDL, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import JSONText, UTCDateTime, db, utcnow
from engine.models.statuses import CaseStatus


class Case(db.Model):
    """One journey: a process instance pinned to a definition version.

    `state` is SpiffWorkflow's serialization without the spec (restored from the pinned
    definition). Everything lists show lives in the derived tables, never in `state`.
    """

    __tablename__ = "case"
    __table_args__ = (Index("ix_case_center_status", "center_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200), default="")    # person or firm the case is about
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.ACTIVE)  # CaseStatus
    has_incident: Mapped[bool] = mapped_column(Boolean, default=False)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    parent_case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(16))
    library_version: Mapped[str] = mapped_column(String(16))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The decided values the funder's report counts (engine.report.case_facts), kept by every change.
    facts: Mapped[dict | None] = mapped_column(JSONText)
    # The same facts as typed columns the report counts in the database (engine.report.keep_facts); the
    # referrals are rows of case_referral.
    # a person: a 64-bit hash of the folded name and nationality (an integer sorts and groups fast)
    report_person_key: Mapped[int | None] = mapped_column(BigInteger)
    report_country: Mapped[str | None] = mapped_column(String(100))
    report_path: Mapped[str | None] = mapped_column(String(64))
    report_outcome: Mapped[str | None] = mapped_column(String(64))
    report_size: Mapped[str | None] = mapped_column(String(16))         # from the consultation's headcount
    report_kreis: Mapped[str | None] = mapped_column(String(100))       # from the consultation's location

    __mapper_args__ = {"version_id_col": lock_version}

    definition = relationship("ProcessDefinition")
    center = relationship("Organisation", foreign_keys=[center_id])
    employer = relationship("Organisation", foreign_keys=[employer_id])
    responsible = relationship("User", foreign_keys=[responsible_id])
    referrals = relationship("CaseReferral", cascade="all, delete-orphan", order_by="CaseReferral.id")

    @property
    def is_active(self) -> bool:
        return self.status == CaseStatus.ACTIVE


# The case list (engine.case_list) reads a page as the first rows of one of these, in its order: the center's
# cases of a status (or of every status) by last activity or by id (the order they started), a responsible
# advisor's cases by status and activity, and the few cases in error by activity.
_in_error = Case.has_incident.is_(True)
Index("ix_case_center_status_updated", Case.center_id, Case.status, Case.updated_at, Case.id)
Index("ix_case_center_status_id", Case.center_id, Case.status, Case.id)
Index("ix_case_center_updated", Case.center_id, Case.updated_at, Case.id)
Index("ix_case_responsible_status_updated", Case.responsible_id, Case.status, Case.updated_at, Case.id)
# The flow: a center's cases started in the weeks shown.
Index("ix_case_center_started_ended", Case.center_id, Case.started_at, Case.ended_at)
# The funder's report (engine.report): a center's journeys of a process started before a period's end, with every
# column the report counts, so that PostgreSQL reads them index-only.
Index("ix_case_report_journeys", Case.center_id, Case.definition_id, Case.started_at,
      postgresql_include=["ended_at", "id", "employer_id", "report_person_key", "status", "report_size",
                          "report_kreis", "report_country", "report_path", "report_outcome"])
# The report's journeys ended in a period, and the flow's cases completed in its weeks: a center's cases by end.
Index("ix_case_center_ended", Case.center_id, Case.ended_at,
      postgresql_include=["definition_id", "started_at", "status", "id"])
# The supervisors' workload: a center's active cases per responsible person, index-only.
Index("ix_case_center_status_responsible", Case.center_id, Case.status, Case.responsible_id)
Index("ix_case_center_in_error", Case.center_id, Case.updated_at, Case.id,
      postgresql_where=_in_error, sqlite_where=_in_error)
# Its search (a part of the reference or the name) reads trigram indexes on PostgreSQL, as the inbox's does
# (see engine/models/human_task.py); on SQLite they are plain indexes its search doesn't use.
Index("ix_case_reference_trgm", Case.reference, postgresql_using="gin", postgresql_ops={"reference": "gin_trgm_ops"})
Index("ix_case_subject_trgm", Case.subject, postgresql_using="gin", postgresql_ops={"subject": "gin_trgm_ops"})
event.listen(Case.__table__, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))


class CaseMilestone(db.Model):
    """A `milestone` property reached by the case: what the employer portal shows."""

    __tablename__ = "case_milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(128))
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseComment(db.Model):
    __tablename__ = "case_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("User")
