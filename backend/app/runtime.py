"""The long-lived objects a process needs, built once from settings.

The web app, the CLI and the worker each build one `Runtime`; nothing is
created at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.core.security import PasswordHasher, PersonalTokenCodec, TokenCodec
from app.core.totp import MfaCrypto
from app.db import create_db_engine, create_session_factory
from app.queue import TaskQueue
from app.services.email import EmailRenderer, EmailSender


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    hasher: PasswordHasher
    tokens: TokenCodec
    queue: TaskQueue
    email_renderer: EmailRenderer = field(default_factory=EmailRenderer)
    email_sender: EmailSender | None = None
    personal_tokens: PersonalTokenCodec = field(init=False)
    # The engine, and sessions on it, whose every statement commits on its own
    # (AUTOCOMMIT), on the same pool: for work made of single statements that each
    # stand alone (creating a job, its transitions), where BEGIN and COMMIT would
    # only add two round trips.
    autocommit_engine: Engine = field(init=False)
    autocommit_sessions: sessionmaker[Session] = field(init=False)
    # The same, for work that only reads: a flush with changes pending raises.
    read_sessions: sessionmaker[Session] = field(init=False)
    # Encrypts TOTP secrets and hashes recovery codes, with keys from the settings.
    mfa_crypto: MfaCrypto = field(init=False)

    def __post_init__(self) -> None:
        self.mfa_crypto = MfaCrypto(self.settings)
        self.autocommit_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.autocommit_sessions = create_session_factory(self.autocommit_engine)
        self.read_sessions = create_session_factory(self.autocommit_engine, read_only=True)
        self.personal_tokens = PersonalTokenCodec(self.settings)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, statement_timeout: float | None = None
    ) -> Runtime:
        """`statement_timeout`: see `create_db_engine`; the setting's by default."""
        engine = create_db_engine(settings, statement_timeout=statement_timeout)
        return cls(
            settings=settings,
            engine=engine,
            session_factory=create_session_factory(engine),
            hasher=PasswordHasher(settings),
            tokens=TokenCodec(settings),
            queue=TaskQueue(settings),
            email_sender=EmailSender(settings),
        )

    @property
    def mailer(self) -> EmailSender:
        assert self.email_sender is not None
        return self.email_sender
