"""SQLAlchemy 2.0 typed models, one module per aggregate. No Flask here."""

# This project's own models, kept apart so that updates merge cleanly: importing
# them registers their tables, and they are importable from here like the base's.
from app.models import project
from app.models.audit import AuditEvent
from app.models.group import Group, GroupPermission, group_members
from app.models.item import Item
from app.models.job import Job, JobState
from app.models.mfa import MfaChallenge, MfaRecoveryCode
from app.models.personal_token import PersonalAccessToken
from app.models.project import *  # noqa: F403
from app.models.token import EmailVerificationToken, PasswordResetToken, RefreshToken
from app.models.user import User

__all__ = [
    "AuditEvent",
    "EmailVerificationToken",
    "Group",
    "GroupPermission",
    "Item",
    "Job",
    "JobState",
    "MfaChallenge",
    "MfaRecoveryCode",
    "PasswordResetToken",
    "PersonalAccessToken",
    "RefreshToken",
    "User",
    "group_members",
    *project.__all__,
]
