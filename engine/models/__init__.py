"""One table per module. Import everything here so Alembic and `db.create_all` see all tables."""
from engine.models.organisation import Organisation
from engine.models.user import Group, Membership, User
from engine.models.user_session import UserSession
from engine.models.login_attempt import LoginAttempt
from engine.models.definition import Deployment, DeployedFile, FormVersion, ProcessDefinition
from engine.models.case import Case, CaseComment, CaseMilestone
from engine.models.human_task import GroupTaskCount, HumanTask, HumanTaskGroup
from engine.models.waiting import MessageSubscription, WaitingTimer
from engine.models.outbox import OutboxMessage
from engine.models.event import CaseEvent
from engine.models.incident import Incident
from engine.models.notification import MailMessage, Notification
from engine.models.audit import AuditEntry, UserToken
from engine.models.worker_link import WorkerLink
from engine.models.document import CaseDocument
from engine.models.conversation import CaseMessage
from engine.models.info_item import InfoItem

__all__ = ["Organisation", "User", "Group", "Membership", "UserSession", "LoginAttempt", "Deployment", "DeployedFile", "FormVersion",
           "ProcessDefinition", "Case", "CaseComment", "CaseMilestone", "HumanTask", "HumanTaskGroup", "GroupTaskCount",
           "WaitingTimer", "MessageSubscription", "OutboxMessage", "CaseEvent", "Incident",
           "Notification", "MailMessage", "AuditEntry", "UserToken", "WorkerLink", "CaseDocument", "CaseMessage",
           "InfoItem"]
