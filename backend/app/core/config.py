"""Settings: the only module that reads the environment.

Values come from environment variables, then from a `.env` file (the
repository's, or `ENV_FILE`), then from `project.env` (the project's identity,
committed at the repository's root and copied into the images: its name), then
from the defaults below; the environment always wins. Any setting can also be
read from a file named by `<NAME>_FILE`, which is how Docker secrets reach the
apps.

Outside `ENVIRONMENT=local` the settings refuse to load with a missing,
example-default or weak secret, and say which.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from app.core import passwords

BACKEND_DIR = Path(__file__).resolve().parents[2]
REPO_DIR = BACKEND_DIR.parent
# The project's identity (its name), committed: read whatever ENV_FILE says, so a
# fresh clone, a test run or an image without a .env still knows whose it is.
PROJECT_FILE = REPO_DIR / "project.env"

# Values that ship in `.env.example` and the docs: never acceptable outside local.
EXAMPLE_SECRETS = frozenset({"changethis", "change-this", "changeme", "secret", "password", ""})
MIN_SECRET_KEY_LENGTH = 32
MIN_PASSWORD_LENGTH = 12
# How hard a value must be to guess, as zxcvbn estimates it (repeats, sequences,
# keyboard walks, dictionary words and the project's own names count for little):
# about 80 bits for the signing key, which a random value of its length far
# exceeds; zxcvbn's "safely unguessable" score for the people's passwords.
MIN_SECRET_KEY_GUESSES_LOG10 = 24
MIN_PASSWORD_SCORE = 3


def _guessability(value: str, *hints: str) -> tuple[float, int]:
    """(log10 of the guesses needed, score 0-4) by zxcvbn. Imported here: its word
    lists take a moment to load, and only settings outside local need them."""
    from zxcvbn import zxcvbn

    result = zxcvbn(value, user_inputs=[hint for hint in hints if hint], max_length=1024)
    return float(result["guesses_log10"]), int(result["score"])


def _env_files() -> tuple[Path, ...]:
    explicit = os.environ.get("ENV_FILE")
    if explicit:
        return (Path(explicit),)
    return (REPO_DIR / ".env",)


def identity_source(settings_cls: type[BaseSettings]) -> PydanticBaseSettingsSource:
    """The project's identity file: the last source, under .env (whatever ENV_FILE says)."""
    return DotEnvSettingsSource(settings_cls, env_file=PROJECT_FILE)


class FileSecretsSource(PydanticBaseSettingsSource):
    """Reads `<NAME>_FILE` variables: the setting's value is the file's content."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        path = os.environ.get(f"{field_name}_FILE")
        if not path:
            return None, field_name, False
        try:
            return Path(path).read_text(encoding="utf-8").strip(), field_name, False
        except OSError as exc:
            raise ValueError(f"{field_name}_FILE={path} cannot be read: {exc}") from exc

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                # A list or an object (SSO_PROVIDERS) is JSON, as in the environment.
                values[key] = (
                    self.decode_complex_value(name, field, value)
                    if (self.field_is_complex(field))
                    else value
                )
        return values


class SsoProvider(BaseModel):
    """One OpenID Connect provider of SSO_PROVIDERS (docs/security.md)."""

    # A misspelled key is an error, not a silently ignored option.
    model_config = ConfigDict(extra="forbid", frozen=True)

    # In the URLs (/api/v1/login/sso/<name>/...): lower-case letters, digits, - and _.
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    # On the login page's button: "Sign in with <title>".
    title: str = Field(min_length=1, max_length=100)
    # Its discovery document is <issuer>/.well-known/openid-configuration.
    issuer: AnyHttpUrl
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    scopes: list[str] = ["openid", "email", "profile"]
    # The ID token's claim that lists the user's groups at the provider, and which
    # local group each of those names stands for. Only the mapped local groups are
    # synced; a user's other groups are left alone.
    groups_claim: str | None = None
    group_mapping: dict[str, str] = {}
    # Create an account for a verified email no user has yet (never a superuser).
    create_users: bool = False
    # Email domains allowed to sign in this way; empty: any.
    allowed_domains: list[str] = []

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise ValueError("must include openid")
        return value

    @field_validator("allowed_domains")
    @classmethod
    def _lower_domains(cls, value: list[str]) -> list[str]:
        return [domain.strip().lower().lstrip("@") for domain in value if domain.strip()]

    @model_validator(mode="after")
    def _mapping_needs_claim(self) -> SsoProvider:
        if self.group_mapping and not self.groups_claim:
            raise ValueError("group_mapping needs groups_claim")
        return self

    @property
    def issuer_url(self) -> str:
        return str(self.issuer).rstrip("/")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=_env_files(),
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=True,
        # An empty value in .env (`DATABASE_URL=`) means "use the default".
        env_ignore_empty=True,
        # A refusal to start must not print the secrets it was given.
        hide_input_in_errors=True,
    )

    # General
    PROJECT_NAME: str = "Full Stack Flask"
    # Its short name (project.env): the default of tracing's service names.
    PROJECT_SLUG: str = "full-stack-flask"
    ENVIRONMENT: Literal["local", "staging", "production"] = "local"
    LOG_LEVEL: str = "INFO"
    # text (readable) or json (one object a line, for a log collector). Unset: text
    # in local, json elsewhere (app/core/logging.py describes a line).
    LOG_FORMAT: Literal["text", "json"] | None = None
    # The public origin of the site, used in links sent by email.
    FRONTEND_HOST: str = "http://localhost:8000"
    BACKEND_CORS_ORIGINS: Annotated[list[AnyHttpUrl], NoDecode] = []
    # The interactive docs (/api/docs) and the spec (/api/v1/swagger.json). Unset:
    # served in local, 404 elsewhere (they map the whole API for an attacker).
    DOCS_ENABLED: bool | None = None

    # Security
    SECRET_KEY: SecretStr = SecretStr("changethis")
    # Earlier values of SECRET_KEY, comma-separated, after a rotation: TOTP secrets
    # and recovery codes made under them still work (docs/security.md).
    PREVIOUS_SECRET_KEYS: SecretStr = SecretStr("")
    # Seconds a login has to give its second factor after the password.
    MFA_TOKEN_EXPIRE_SECONDS: int = Field(default=300, ge=30, le=3600)
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=15, ge=1)
    REFRESH_TOKEN_EXPIRE_DAYS: int = Field(default=14, ge=1)
    # Seconds after a refresh during which the same (now rotated) cookie may be
    # presented again and still work: two tabs refreshing at once. Later, such a
    # reuse means the token leaked, and ends the whole session.
    REFRESH_REUSE_GRACE_SECONDS: int = Field(default=10, ge=0, le=300)
    PASSWORD_RESET_TOKEN_EXPIRE_MINUTES: int = Field(default=60, ge=1)
    # Marks the refresh cookie Secure (sent over HTTPS only). Unset: on everywhere
    # but ENVIRONMENT=local; turn it off only for a deployment tested over plain HTTP.
    REFRESH_COOKIE_SECURE: bool | None = None
    # OWASP's argon2id minimum: 19 MiB, 2 iterations, 1 lane.
    PASSWORD_HASH_MEMORY_KIB: int = Field(default=19456, ge=8)
    PASSWORD_HASH_TIME_COST: int = Field(default=2, ge=1)
    PASSWORD_HASH_PARALLELISM: int = Field(default=1, ge=1)
    USERS_OPEN_REGISTRATION: bool = False
    # Single sign-on: a JSON list of OpenID Connect providers (SsoProvider above;
    # docs/security.md has an example). Empty: no SSO.
    SSO_PROVIDERS: list[SsoProvider] = []
    # Seconds a provider may take to answer (discovery, keys, token exchange).
    SSO_HTTP_TIMEOUT: float = Field(default=5.0, gt=0, le=60)
    # Seconds of clock difference with a provider tolerated on an ID token's times.
    SSO_CLOCK_SKEW_SECONDS: int = Field(default=60, ge=0, le=600)
    # Users who sign up must follow the link emailed to them before they can log in.
    EMAIL_VERIFICATION_REQUIRED: bool = True
    EMAIL_VERIFICATION_EXPIRE_HOURS: int = Field(default=48, ge=1)

    # Database: an embedded SQLite file unless told otherwise.
    DATABASE_URL: str = f"sqlite:///{BACKEND_DIR / 'data' / 'app.db'}"
    DATABASE_POOL_SIZE: int = Field(default=10, ge=1)
    DATABASE_MAX_OVERFLOW: int = Field(default=5, ge=0)
    DATABASE_ECHO: bool = False
    # Seconds to wait for a new connection, or for a free one in the pool
    # (whole seconds: PostgreSQL's client counts in them, from 2).
    DATABASE_CONNECT_TIMEOUT: int = Field(default=5, ge=2, le=300)
    # Seconds a statement may run before the database cancels it; the client gives
    # up one second later on a database that does not answer at all. Either way the
    # request gets a 503 instead of hanging. 0: no limit. Operations (`python -m
    # app`: migrations, the start-up lock) have none.
    DATABASE_STATEMENT_TIMEOUT: float = Field(default=5, ge=0, le=3600)

    # HTTP
    # How many reverse proxies (Traefik) stand in front and set X-Forwarded-*.
    # 0 when clients connect directly: then those headers are ignored, not trusted.
    PROXY_COUNT: int = Field(default=0, ge=0, le=5)
    MAX_CONTENT_LENGTH: int = Field(default=1024 * 1024, ge=1024)
    # The API server (app/web/server.py): worker processes (default: one per
    # core) and threads serving requests in each.
    WEB_CONCURRENCY: int | None = Field(default=None, ge=1)
    WEB_THREADS: int = Field(default=2, ge=1)
    # The app's access log (app/web/access_log.py): one line per request.
    WEB_ACCESS_LOG: bool = True
    # Prometheus metrics at GET /metrics on the API server's own port (never routed
    # by the proxy, which forwards /api only): app/web/metrics.py.
    METRICS_ENABLED: bool = True
    REDIS_URL: str | None = None

    # Background jobs (Celery). The broker is CELERY_BROKER_URL, else REDIS_URL,
    # else an embedded one: files in BROKER_DATA_DIR, for a machine with nothing.
    CELERY_BROKER_URL: str | None = None
    BROKER_DATA_DIR: Path = BACKEND_DIR / "data" / "broker"
    # Seconds before Redis redelivers a task whose worker vanished; must exceed
    # the longest task (RabbitMQ redelivers as soon as the connection drops).
    CELERY_VISIBILITY_TIMEOUT: int = Field(default=3600, ge=1)
    # Seconds the API waits for the broker before answering 503.
    BROKER_TIMEOUT: float = Field(default=3.0, gt=0)
    JOB_TIME_LIMIT_SECONDS: int = Field(default=600, ge=1)
    # A file each worker creates once it consumes its queues: `make dev` in
    # containers checks it every 2 s, where a ping costs a Python start each time.
    WORKER_READY_FILE: Path | None = None
    # The port on which each worker node serves its Prometheus metrics
    # (app/workers/metrics.py); 0: none. The images set 9540; natively, each worker
    # module of `make dev` needs its own. This machine only unless the address says
    # otherwise (the images listen on every interface of their container).
    WORKER_METRICS_PORT: int = Field(default=0, ge=0, le=65535)
    WORKER_METRICS_HOST: str = "127.0.0.1"
    # Finished jobs older than this are deleted by the periodic clean-up.
    JOBS_RETENTION_DAYS: int = Field(default=30, ge=1)
    # Audit events older than this are deleted by the daily clean-up.
    AUDIT_RETENTION_DAYS: int = Field(default=365, ge=1)
    EMAIL_MAX_RETRIES: int = Field(default=5, ge=0)
    # Flower's login, "user:password"; Flower refuses to start without it.
    FLOWER_BASIC_AUTH: SecretStr | None = None

    # Error tracking (app/core/error_tracking.py): off unless SENTRY_DSN is set.
    SENTRY_DSN: SecretStr | None = None
    # Default: ENVIRONMENT.
    SENTRY_ENVIRONMENT: str | None = None
    # The version deployed, e.g. the images' tag (TAG).
    SENTRY_RELEASE: str | None = None

    # Tracing (app/core/tracing.py): off unless the OTLP/HTTP collector's base URL
    # is set (e.g. http://collector:4318). Read here too so that .env can set them;
    # the SDK reads its other OTEL_* variables (sampler, headers, resource
    # attributes) from the environment itself.
    OTEL_EXPORTER_OTLP_ENDPOINT: str | None = None
    # Default: PROJECT_SLUG-api, PROJECT_SLUG-worker-<module>.
    OTEL_SERVICE_NAME: str | None = None

    # Rate limits (Flask-Limiter syntax). Stored in Redis when REDIS_URL is set.
    RATE_LIMIT_ENABLED: bool = True
    RATE_LIMIT_STORAGE_URL: str | None = None
    # Seconds any call to the limits' store may take; past it the limits are
    # counted in memory until the store answers again.
    RATE_LIMIT_STORAGE_TIMEOUT: float = Field(default=1.0, gt=0, le=30)
    RATE_LIMIT_LOGIN_ACCOUNT: str = "10/minute"
    RATE_LIMIT_LOGIN_IP: str = "100/minute"
    RATE_LIMIT_PASSWORD_RECOVERY: str = "5/minute"  # noqa: S105 (not a secret)
    RATE_LIMIT_SIGNUP: str = "5/minute"
    RATE_LIMIT_VERIFICATION_RESEND: str = "5/minute"

    # Email: "console" logs messages instead of sending them.
    EMAIL_BACKEND: Literal["smtp", "console"] | None = None
    SMTP_HOST: str | None = None
    SMTP_PORT: int = 587
    SMTP_USER: str | None = None
    SMTP_PASSWORD: SecretStr | None = None
    SMTP_TLS: bool = True
    SMTP_SSL: bool = False
    SMTP_TIMEOUT: float = 10.0
    EMAILS_FROM_EMAIL: EmailStr = "noreply@example.com"
    EMAILS_FROM_NAME: str | None = None

    # The first superuser, created by `python -m app create-superuser`.
    FIRST_SUPERUSER: EmailStr = "admin@example.com"
    FIRST_SUPERUSER_PASSWORD: SecretStr = SecretStr("changethis")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Explicit values, then the environment, then *_FILE secrets, then .env,
        # then the project's identity file.
        assert isinstance(env_settings, EnvSettingsSource)
        return (
            init_settings,
            env_settings,
            FileSecretsSource(settings_cls),
            dotenv_settings,
            identity_source(settings_cls),
        )

    @field_validator("BACKEND_CORS_ORIGINS", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("SSO_PROVIDERS")
    @classmethod
    def _unique_provider_names(cls, value: list[SsoProvider]) -> list[SsoProvider]:
        names = [provider.name for provider in value]
        if len(names) != len(set(names)):
            raise ValueError("each provider needs a name of its own")
        return value

    def sso_provider(self, name: str) -> SsoProvider | None:
        return next((p for p in self.SSO_PROVIDERS if p.name == name), None)

    @field_validator("LOG_FORMAT", mode="before")
    @classmethod
    def _lower_log_format(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def log_format(self) -> Literal["text", "json"]:
        if self.LOG_FORMAT is not None:
            return self.LOG_FORMAT
        return "text" if self.ENVIRONMENT == "local" else "json"

    @property
    def cors_origins(self) -> list[str]:
        return [str(origin).rstrip("/") for origin in self.BACKEND_CORS_ORIGINS]

    @property
    def email_backend(self) -> str:
        return self.EMAIL_BACKEND or ("smtp" if self.SMTP_HOST else "console")

    @property
    def previous_secret_keys(self) -> list[str]:
        raw = self.PREVIOUS_SECRET_KEYS.get_secret_value()
        return [key.strip() for key in raw.split(",") if key.strip()]

    @property
    def docs_enabled(self) -> bool:
        return self.DOCS_ENABLED if self.DOCS_ENABLED is not None else self.ENVIRONMENT == "local"

    @property
    def refresh_cookie_secure(self) -> bool:
        if self.REFRESH_COOKIE_SECURE is not None:
            return self.REFRESH_COOKIE_SECURE
        return self.ENVIRONMENT != "local"

    @property
    def broker_url(self) -> str:
        return self.CELERY_BROKER_URL or self.REDIS_URL or "filesystem://"

    @property
    def rate_limit_storage_url(self) -> str:
        return self.RATE_LIMIT_STORAGE_URL or self.REDIS_URL or "memory://"

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Settings:
        if self.ENVIRONMENT == "local":
            return self
        problems = []
        hints = (self.PROJECT_NAME, str(self.FIRST_SUPERUSER), self.FRONTEND_HOST)
        secret_key = self.SECRET_KEY.get_secret_value()
        if (
            secret_key in EXAMPLE_SECRETS
            or len(secret_key) < MIN_SECRET_KEY_LENGTH
            or _guessability(secret_key, *hints)[0] < MIN_SECRET_KEY_GUESSES_LOG10
        ):
            problems.append(
                f"SECRET_KEY must be a random value of at least {MIN_SECRET_KEY_LENGTH} "
                "characters (python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        password = self.FIRST_SUPERUSER_PASSWORD.get_secret_value()
        if (
            password in EXAMPLE_SECRETS
            or len(password) < MIN_PASSWORD_LENGTH
            or passwords.is_common(password)
            or _guessability(password, *hints)[1] < MIN_PASSWORD_SCORE
        ):
            problems.append(
                f"FIRST_SUPERUSER_PASSWORD must be set, not an example value, at least "
                f"{MIN_PASSWORD_LENGTH} characters and hard to guess (not a common "
                "password; no repeats, sequences or common words alone)"
            )
        # Imported here: the settings are read where SQLAlchemy is not otherwise
        # needed (the API server's parent process, the dev tools).
        from sqlalchemy.engine import make_url

        db_password = make_url(self.DATABASE_URL).password
        if not self.DATABASE_URL.startswith("sqlite") and (
            db_password is None or str(db_password) in EXAMPLE_SECRETS
        ):
            problems.append("DATABASE_URL must carry a real database password")
        if self.SMTP_PASSWORD is not None and self.SMTP_PASSWORD.get_secret_value() in (
            EXAMPLE_SECRETS - {""}
        ):
            problems.append("SMTP_PASSWORD must not be an example value")
        if self.FLOWER_BASIC_AUTH is not None:
            _, _, flower_password = self.FLOWER_BASIC_AUTH.get_secret_value().partition(":")
            if (
                flower_password in EXAMPLE_SECRETS
                or len(flower_password) < MIN_PASSWORD_LENGTH
                or _guessability(flower_password, *hints)[1] < MIN_PASSWORD_SCORE
            ):
                problems.append(
                    f"FLOWER_BASIC_AUTH must be user:password with a password of at least "
                    f"{MIN_PASSWORD_LENGTH} characters, not an example value"
                )
        for provider in self.SSO_PROVIDERS:
            if provider.client_secret.get_secret_value() in EXAMPLE_SECRETS:
                problems.append(f"SSO_PROVIDERS: {provider.name}'s client_secret must be set")
        # The embedded defaults serve one developer's machine; a deployment names its
        # database and broker (a file broker on one host's disk loses jobs between hosts).
        if "DATABASE_URL" not in self.model_fields_set:
            problems.append(
                "DATABASE_URL must name the database: the embedded SQLite file is the "
                "default for ENVIRONMENT=local only"
            )
        if self.broker_url == "filesystem://":
            problems.append(
                "CELERY_BROKER_URL or REDIS_URL must name the broker: the embedded "
                "file broker is the default for ENVIRONMENT=local only"
            )
        if problems:
            raise ValueError(
                f"refusing to start with ENVIRONMENT={self.ENVIRONMENT}: " + "; ".join(problems)
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
