"""Sending email: rendered from the core's templates, retried with backoff.

A mail server that is down or says "try again later" (4xx) gets
EMAIL_MAX_RETRIES more attempts (the limit is set on the task by `worker.main`), after 2, 4, 8, ...
seconds (capped at 10 minutes, each drawn at random below that bound so that
many waiting messages don't all come back at once). A final refusal (5xx:
unknown recipient, bad credentials) fails at once.

Password recovery starts here too (`email.recover_password`): the API hands on
the address it was given, and the account is looked up here, so that asking
costs the API the same whether or not the account exists. Email verification
(`email.verify_address`) works the same way: the link's token is made here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from celery import Task, shared_task

from app.queue import RECOVER_PASSWORD, SEND_EMAIL, VERIFY_EMAIL
from app.services import auth, users, verification
from app.services.email import render_email
from app.services.errors import Unavailable
from app.workers import ContextTask

if TYPE_CHECKING:
    from app.runtime import Runtime

logger = logging.getLogger(__name__)


class EmailTask(ContextTask):
    """Retried while the mail server is unavailable (the backoff above), and says
    once, clearly, that an email was not sent: after its last retry, or at once
    when it cannot even be rendered (an unknown kind)."""

    autoretry_for = (Unavailable,)
    retry_backoff = 2
    retry_backoff_max = 600
    retry_jitter = True

    def describe(self, args: Any, kwargs: Any) -> dict[str, Any]:
        """The email's kind and recipient, from the task's arguments."""
        return dict(zip(("kind", "to"), args, strict=False)) | dict(kwargs)

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        call = self.describe(args, kwargs)
        attempts = self.request.retries + 1
        # The mail server's own words are in the cause ("Connection refused", "535 ...").
        reason = f"{exc} ({exc.__cause__})" if exc.__cause__ else str(exc)
        logger.error(
            "gave up on the %s email to %s after %d attempt%s: %s",
            call.get("kind"),
            call.get("to"),
            attempts,
            "" if attempts == 1 else "s",
            reason,
        )


@shared_task(name=SEND_EMAIL, bind=True, base=EmailTask)
def send_email(self: Task, kind: str, to: str, context: dict[str, Any]) -> None:
    _deliver(self.app.runtime, kind, to, context)


def _deliver(runtime: Runtime, kind: str, to: str, context: dict[str, Any]) -> None:
    """Render the `kind` email for `to` and send it (each task's last step)."""
    message = render_email(
        runtime.email_renderer, runtime.settings, kind=kind, to=to, context=context
    )
    runtime.mailer.send(to, message)
    logger.info("sent %s email to %s", kind, to)


class RecoveryTask(EmailTask):
    def describe(self, args: Any, kwargs: Any) -> dict[str, Any]:
        return {"kind": "reset_password", "to": (list(args) or [kwargs.get("email")])[0]}


@shared_task(name=RECOVER_PASSWORD, bind=True, base=RecoveryTask)
def recover_password(self: Task, email: str) -> None:
    """Send a reset link if `email` is an active account's. Each attempt issues a
    link of its own: only the one delivered is ever seen, and the token never
    travels through the broker; the others expire unused."""
    runtime = self.app.runtime
    with runtime.session_factory() as session:
        user = users.get_user_by_email(session=session, email=email)
        if user is None or not user.is_active:
            logger.info("password recovery asked for an address with no active account")
            return
        token = auth.create_password_reset_token(
            session=session, settings=runtime.settings, user=user
        )
        session.commit()
        address = user.email
    _deliver(runtime, "reset_password", address, {"token": token})


class VerificationTask(EmailTask):
    def describe(self, args: Any, kwargs: Any) -> dict[str, Any]:
        return {"kind": "verify_email", "to": (list(args) or [kwargs.get("email")])[0]}


@shared_task(name=VERIFY_EMAIL, bind=True, base=VerificationTask)
def verify_address(self: Task, email: str, user_id: int | None = None) -> None:
    """Send a verification link to `email` for each active account waiting for it
    (only `user_id`'s when given). Like password recovery, each attempt issues a
    link of its own, and the token never travels through the broker."""
    runtime = self.app.runtime
    with runtime.session_factory() as session:
        waiting = verification.accounts_to_verify(session=session, email=email, user_id=user_id)
        address = users.login_key(email)
        tokens = [
            verification.issue_token(
                session=session, settings=runtime.settings, user=user, email=address
            )
            for user in waiting
        ]
        session.commit()
    if not tokens:
        logger.info("verification asked for an address no active account waits for")
        return
    for token in tokens:
        _deliver(runtime, "verify_email", address, {"token": token})
