"""Sending email: rendered from the core's templates, retried with backoff.

A mail server that is down or says "try again later" (4xx) gets
EMAIL_MAX_RETRIES more attempts (the limit is set on the task by `worker.main`), after 2, 4, 8, ...
seconds (capped at 10 minutes, each drawn at random below that bound so that
many waiting messages don't all come back at once). A final refusal (5xx:
unknown recipient, bad credentials) fails at once.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task

from app.services.email import render_email
from app.services.errors import Unavailable
from app.services.queue import SEND_EMAIL

logger = logging.getLogger(__name__)


class EmailTask(Task):
    """Says once, clearly, that an email was not sent: after its last retry, or at
    once when it cannot even be rendered (an unknown kind)."""

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        call = dict(zip(("kind", "to"), args, strict=False)) | dict(kwargs)
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


@shared_task(
    name=SEND_EMAIL,
    bind=True,
    base=EmailTask,
    autoretry_for=(Unavailable,),
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=True,
)
def send_email(self: Task, kind: str, to: str, context: dict[str, Any]) -> None:
    runtime = self.app.runtime
    message = render_email(
        runtime.email_renderer, runtime.settings, kind=kind, to=to, context=context
    )
    runtime.mailer.send(to, message)
    logger.info("sent %s email to %s", kind, to)
