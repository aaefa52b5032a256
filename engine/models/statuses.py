"""The closed sets of values that status and kind columns hold. StrEnums: a member is the very string
stored (`CaseStatus.ACTIVE == "active"`), so rows, JSON and templates read them unchanged."""
from enum import StrEnum


class CaseStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TaskStatus(StrEnum):
    """`HumanTask.state` and `ExternalTask.state`."""
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class MailStatus(StrEnum):
    PENDING = "pending"         # to send; `next_attempt_at` says when
    SENT = "sent"
    FAILED = "failed"           # refused for good, or out of attempts
    LOCAL = "local"             # no MAIL_URL: kept in the outbox, never sent


class MessageStatus(StrEnum):
    """`OutboxMessage.status`: a BPMN message thrown by a case."""
    PENDING = "pending"
    DELIVERED = "delivered"


class OrganisationKind(StrEnum):
    CENTER = "center"
    EMPLOYER = "employer"


class NoticeKind(StrEnum):
    """The deadline notices of a task, in the order they go out."""
    REMINDER = "reminder"
    OVERDUE = "overdue"
    ESCALATION = "escalation"
