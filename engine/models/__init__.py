"""One table per module. Import everything here so Alembic and `db.create_all` see all tables."""
from engine.models.organisation import Organisation
from engine.models.user import Group, Membership, User
from engine.models.user_session import UserSession
from engine.models.login_attempt import LoginAttempt
from engine.models.definition import Deployment, DeployedFile, FormVersion, ProcessDefinition
from engine.models.case import Case, CaseComment, CaseMilestone
from engine.models.case_referral import CaseReferral
from engine.models.human_task import GroupTaskCount, HumanTask, HumanTaskGroup
from engine.models.waiting import MessageSubscription, WaitingTimer
from engine.models.outbox import OutboxMessage
from engine.models.external_task import ExternalTask
from engine.models.timer_start import TimerStart
from engine.models.timer_start_round import TimerStartRound
from engine.models.event import CaseEvent
from engine.models.incident import Incident
from engine.models.notification import MailMessage, Notification
from engine.models.notification_setting import NotificationSetting
from engine.models.audit import AuditEntry, UserToken
from engine.models.worker_link import WorkerLink
from engine.models.document import CaseDocument
from engine.models.conversation import CaseMessage
from engine.models.api_token import ApiToken
from engine.models.decision import DecisionVersion
from engine.models.draft import ProcessDraft
from engine.models.info_item import InfoItem

from engine.models.statuses import CaseStatus, MailStatus, MessageStatus, NoticeKind, OrganisationKind, TaskStatus

__all__ = ["Organisation", "User", "Group", "Membership", "UserSession", "LoginAttempt", "Deployment", "DeployedFile", "FormVersion",
           "ProcessDefinition", "Case", "CaseComment", "CaseMilestone", "CaseReferral", "HumanTask", "HumanTaskGroup", "GroupTaskCount",
           "WaitingTimer", "MessageSubscription", "OutboxMessage", "ExternalTask", "TimerStart", "TimerStartRound", "CaseEvent", "Incident",
           "Notification", "NotificationSetting", "MailMessage", "AuditEntry", "UserToken", "WorkerLink",
           "CaseDocument", "CaseMessage", "ApiToken", "DecisionVersion", "ProcessDraft", "InfoItem",
           "CaseStatus", "TaskStatus", "MailStatus", "MessageStatus", "OrganisationKind", "NoticeKind"]
