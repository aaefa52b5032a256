from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import UTCDateTime, db, utcnow


class DecisionVersion(db.Model):
    """A version of one DMN decision (table), stored with every deploy that changes its file.

    A process embeds its decision tables in its own spec at deploy time; this row is how a later
    deploy of a single BPMN file finds the newest table a `camunda:decisionRef` names."""

    __tablename__ = "decision_version"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_decision_version_key_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), index=True)      # the DMN decision id
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    checksum: Mapped[str] = mapped_column(String(64))               # of its file
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    source_file_id: Mapped[int] = mapped_column(ForeignKey("deployed_file.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    source_file = relationship("DeployedFile")
