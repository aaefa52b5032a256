from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import JSONText, UTCDateTime, db, utcnow


class Deployment(db.Model):
    """One accepted set of files; the versions it created point back to it."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    checksum: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)          # the deployer's change note

    files = relationship("DeployedFile", order_by="DeployedFile.name", lazy="selectin")
    created_by = relationship("User")


class DeployedFile(db.Model):
    __tablename__ = "deployed_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(8))          # 'bpmn' | 'dmn' | 'form'
    checksum: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)


class ProcessDefinition(db.Model):
    """An immutable, versioned process: its source file and the parsed specs to rebuild it cheaply."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_process_definition_key_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), index=True)      # the BPMN process id
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    # Hash of everything the process depends on (its file, called processes, DMN, forms).
    checksum: Mapped[str] = mapped_column(String(64))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    source_file_id: Mapped[int] = mapped_column(ForeignKey("deployed_file.id"))
    # Serialized process spec + called subprocess specs (SpiffWorkflow's own format).
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)     # large: loaded only to rebuild specs
    # formRef -> FormVersion.id, resolved at deploy time so a case never sees a newer form.
    forms: Mapped[dict] = mapped_column(JSONText, default=dict)
    # Message names that start this process (message start events).
    message_starts: Mapped[list] = mapped_column(JSONText, default=list)
    # Offered under "Neuer Fall": a plain start event and not camunda:isStartableInTasklist="false".
    startable: Mapped[bool] = mapped_column(default=True)
    documentation: Mapped[str | None] = mapped_column(Text)       # the process's bpmn:documentation
    start_form: Mapped[str | None] = mapped_column(String(128))    # formRef of the start event
    # Days without activity after which a case is listed as stuck (process property `idle_days`;
    # None: LOTSE_IDLE_DAYS).
    idle_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    source_file = relationship("DeployedFile")

    @property
    def label(self) -> str:
        return f"{self.name} (v{self.version})"


class FormVersion(db.Model):
    __tablename__ = "form_version"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_form_version_key_version"),
                      Index("ix_form_version_key_checksum", "key", "checksum"))

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    checksum: Mapped[str] = mapped_column(String(64))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    schema: Mapped[dict] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
