"""Settings: sources and their order, and the refusal of weak secrets outside local."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core import config
from app.core.config import BACKEND_DIR, MIN_PASSWORD_SCORE, Settings, _guessability

STRONG_KEY = "pAq3Wv_h0yRZc8mB1sXkLd-7TnFu2eJg5oVi9QbE4aC"  # secrets.token_urlsafe(32)
STRONG_PASSWORD = "a-long-admin-passphrase"
STRONG_DATABASE_URL = "postgresql://app:S3cure-db-pass@db:5432/app"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting, `<NAME>_FILE` or ENV_FILE leaks in from the machine running the tests."""
    monkeypatch.delenv("ENV_FILE", raising=False)
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)


def production(**values: object) -> Settings:
    strong: dict[str, object] = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": STRONG_KEY,
        "FIRST_SUPERUSER_PASSWORD": STRONG_PASSWORD,
        "DATABASE_URL": STRONG_DATABASE_URL,
        "REDIS_URL": "redis://redis:6379/0",
    }
    strong.update(values)
    return Settings(_env_file=None, **strong)  # type: ignore[arg-type]


def refusal(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        production(**values)
    return str(caught.value)


def test_settings_in_local_accept_defaults() -> None:
    settings = Settings(_env_file=None)
    assert settings.ENVIRONMENT == "local"
    assert settings.SECRET_KEY.get_secret_value() == "changethis"


def test_settings_in_production_with_strong_secrets_load() -> None:
    settings = production()
    assert settings.ENVIRONMENT == "production"
    assert production(DATABASE_URL="sqlite:////data/app.db").DATABASE_URL.startswith("sqlite")


def test_log_format_defaults_to_text_in_local_and_json_elsewhere() -> None:
    assert Settings(_env_file=None).log_format == "text"  # type: ignore[call-arg]
    assert production().log_format == "json"
    assert production(ENVIRONMENT="staging").log_format == "json"
    assert production(LOG_FORMAT="text").log_format == "text"
    assert Settings(_env_file=None, LOG_FORMAT=" JSON ").log_format == "json"  # type: ignore[call-arg]


def test_unknown_log_format_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, LOG_FORMAT="bogus")  # type: ignore[call-arg]
    assert "LOG_FORMAT\n  Input should be 'text' or 'json'" in str(refused.value)


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_settings_outside_local_refuse_defaults_naming_each(environment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(
            _env_file=None,
            ENVIRONMENT=environment,
            DATABASE_URL="postgresql://app@db/app",
        )
    message = str(caught.value)
    assert f"ENVIRONMENT={environment}" in message
    for name in ("SECRET_KEY", "FIRST_SUPERUSER_PASSWORD", "DATABASE_URL"):
        assert name in message


@pytest.mark.parametrize(
    "key",
    ["changethis", "secret", "", "short-but-random-9f3a"],
    ids=["example", "secret", "empty", "short"],
)
def test_settings_in_production_refuse_weak_secret_key(key: str) -> None:
    message = refusal(SECRET_KEY=key)
    assert "SECRET_KEY" in message
    assert "FIRST_SUPERUSER_PASSWORD" not in message
    assert "DATABASE_URL" not in message


@pytest.mark.parametrize(
    "key",
    [
        "a" * 32,
        "k3Y-" + "x7Qz" * 10,
        "changethischangethischangethis12",
        "abcdefghijklmnopqrstuvwxyz012345",
    ],
    ids=["one character", "a repeated pattern", "a repeated word", "a sequence"],
)
def test_settings_in_production_refuse_low_entropy_secret_key(key: str) -> None:
    message = refusal(SECRET_KEY=key)
    assert "SECRET_KEY" in message
    assert "FIRST_SUPERUSER_PASSWORD" not in message


@pytest.mark.parametrize(
    "password",
    ["aaaaaaaaaaaa", "password1234", "adminadmin12", "qwertyuiop12", "admin@example.com1"],
)
def test_settings_in_production_refuse_guessable_superuser_password(password: str) -> None:
    message = refusal(FIRST_SUPERUSER_PASSWORD=password)
    assert "FIRST_SUPERUSER_PASSWORD" in message
    assert "SECRET_KEY" not in message


def test_settings_in_production_refuse_common_superuser_password() -> None:
    # On the list of common passwords, yet long and varied enough for zxcvbn's score.
    assert _guessability("laurel12creek")[1] >= MIN_PASSWORD_SCORE
    message = refusal(FIRST_SUPERUSER_PASSWORD="Laurel12Creek")
    assert "FIRST_SUPERUSER_PASSWORD" in message
    assert "not a common password" in message


@pytest.mark.parametrize("password", ["changethis", "password", "short-pw"])
def test_settings_in_production_refuse_weak_superuser_password(password: str) -> None:
    message = refusal(FIRST_SUPERUSER_PASSWORD=password)
    assert "FIRST_SUPERUSER_PASSWORD" in message
    assert "SECRET_KEY" not in message


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app@db:5432/app",
        "postgresql://app:changethis@db:5432/app",
        "mariadb://app:password@db/app",
        "postgresql://app:@db/app",
    ],
    ids=["no password", "example password", "another example", "empty password"],
)
def test_settings_in_production_refuse_database_url_without_real_password(url: str) -> None:
    message = refusal(DATABASE_URL=url)
    assert "DATABASE_URL" in message
    assert "SECRET_KEY" not in message


def test_settings_outside_local_refuse_the_embedded_database_and_broker() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(
            _env_file=None,
            ENVIRONMENT="production",
            SECRET_KEY=STRONG_KEY,
            FIRST_SUPERUSER_PASSWORD=STRONG_PASSWORD,
        )
    message = str(caught.value)
    assert "DATABASE_URL must name the database" in message
    assert "CELERY_BROKER_URL or REDIS_URL must name the broker" in message
    # Named explicitly, SQLite is a choice (one machine, say), not a default.
    assert production(
        DATABASE_URL="sqlite:////data/app.db",
        REDIS_URL=None,
        CELERY_BROKER_URL="amqp://app:S3cure@mq//",
    ).broker_url.startswith("amqp")


def test_settings_refusal_does_not_reveal_given_secrets() -> None:
    message = refusal(SECRET_KEY="weak-key", SMTP_PASSWORD="changeme")
    assert "SECRET_KEY" in message
    for secret in ("weak-key", "changeme", STRONG_PASSWORD, "S3cure-db-pass"):
        assert secret not in message


def test_settings_in_production_refuse_example_smtp_password() -> None:
    assert "SMTP_PASSWORD" in refusal(SMTP_PASSWORD="changethis")
    assert production(SMTP_PASSWORD="a-real-smtp-password").SMTP_PASSWORD is not None


def test_settings_read_values_from_file_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text(f"{STRONG_KEY}\n", encoding="utf-8")
    password_file = tmp_path / "admin_password"
    password_file.write_text(STRONG_PASSWORD, encoding="utf-8")
    monkeypatch.setenv("SECRET_KEY_FILE", str(key_file))
    monkeypatch.setenv("FIRST_SUPERUSER_PASSWORD_FILE", str(password_file))
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_URL", STRONG_DATABASE_URL)
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")

    settings = Settings(_env_file=None)
    assert settings.SECRET_KEY.get_secret_value() == STRONG_KEY
    assert settings.FIRST_SUPERUSER_PASSWORD.get_secret_value() == STRONG_PASSWORD


def test_settings_with_unreadable_file_variable_name_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="SECRET_KEY_FILE"):
        Settings(_env_file=None)


def test_settings_prefer_environment_over_file_variable_over_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "PROJECT_NAME=From the env file\nLOG_LEVEL=DEBUG\nFRONTEND_HOST=https://file.example.com\n",
        encoding="utf-8",
    )
    host_file = tmp_path / "frontend_host"
    host_file.write_text("https://secret.example.com", encoding="utf-8")
    monkeypatch.setenv("PROJECT_NAME", "From the environment")
    monkeypatch.setenv("FRONTEND_HOST_FILE", str(host_file))

    settings = Settings(_env_file=env_file)
    assert settings.PROJECT_NAME == "From the environment"
    assert settings.FRONTEND_HOST == "https://secret.example.com"
    assert settings.LOG_LEVEL == "DEBUG"


def test_settings_read_project_identity_under_env_file_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity = tmp_path / "project.env"
    identity.write_text(
        'PROJECT_NAME="Acme Portal"\nLOG_LEVEL=WARNING\nFRONTEND_HOST=https://acme.example\n'
        "STACK_NAME=acme-portal\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(config, "PROJECT_FILE", identity)
    # Without any .env (ENV_FILE=/dev/null, an image): the committed identity.
    assert Settings(_env_file=None).PROJECT_NAME == "Acme Portal"
    env_file = tmp_path / ".env"
    env_file.write_text("LOG_LEVEL=DEBUG\n", encoding="utf-8")
    monkeypatch.setenv("FRONTEND_HOST", "https://local.example")
    settings = Settings(_env_file=env_file)
    assert (settings.PROJECT_NAME, settings.LOG_LEVEL, settings.FRONTEND_HOST) == (
        "Acme Portal",
        "DEBUG",
        "https://local.example",
    )


def test_settings_default_name_is_the_repository_project_name() -> None:
    identity = (config.REPO_DIR / "project.env").read_text(encoding="utf-8")
    assert f'PROJECT_NAME="{Settings(_env_file=None).PROJECT_NAME}"' in identity.splitlines()


def test_settings_treat_empty_env_file_value_as_default(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DATABASE_URL=\nPROJECT_NAME=Named\n", encoding="utf-8")
    settings = Settings(_env_file=env_file)
    assert settings.PROJECT_NAME == "Named"
    url = settings.DATABASE_URL
    assert url == Settings.model_fields["DATABASE_URL"].default


def test_settings_read_env_file_named_by_env_file_variable(tmp_path: Path) -> None:
    # ENV_FILE is read when the settings module is imported: check it in a fresh process.
    env_file = tmp_path / "custom.env"
    env_file.write_text("PROJECT_NAME=From ENV_FILE\nLOG_LEVEL=WARNING\n", encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    environment.update(ENV_FILE=str(env_file), LOG_LEVEL="ERROR")
    script = (
        "from app.core.config import Settings; s = Settings(); print(s.PROJECT_NAME, s.LOG_LEVEL)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BACKEND_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "From ENV_FILE ERROR"


def test_settings_keep_audit_events_a_year_and_refuse_less_than_a_day() -> None:
    assert Settings(_env_file=None).AUDIT_RETENTION_DAYS == 365
    assert Settings(_env_file=None, AUDIT_RETENTION_DAYS=1).AUDIT_RETENTION_DAYS == 1
    for days in (0, -5):
        with pytest.raises(ValidationError, match="AUDIT_RETENTION_DAYS"):
            Settings(_env_file=None, AUDIT_RETENTION_DAYS=days)


SSO_PROVIDER = {
    "name": "corp",
    "title": "Corp",
    "issuer": "https://id.example.com/realms/corp",
    "client_id": "app",
    "client_secret": "provider-secret",
    "groups_claim": "groups",
    "group_mapping": {"engineering": "Staff"},
    "allowed_domains": ["Example.com"],
}


def test_sso_providers_are_read_as_json_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(_env_file=None).SSO_PROVIDERS == []
    monkeypatch.setenv("SSO_PROVIDERS", json.dumps([SSO_PROVIDER]))
    [provider] = Settings(_env_file=None).SSO_PROVIDERS
    assert provider.name == "corp"
    assert provider.issuer_url == "https://id.example.com/realms/corp"
    assert provider.client_secret.get_secret_value() == "provider-secret"
    assert provider.scopes == ["openid", "email", "profile"]
    assert provider.allowed_domains == ["example.com"]
    assert provider.create_users is False
    assert "provider-secret" not in repr(provider)


def test_sso_providers_are_read_from_a_secret_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "sso_providers"
    secret.write_text(json.dumps([SSO_PROVIDER]) + "\n")
    monkeypatch.setenv("SSO_PROVIDERS_FILE", str(secret))
    [provider] = Settings(_env_file=None).SSO_PROVIDERS
    assert provider.title == "Corp"
    assert Settings(_env_file=None).sso_provider("corp") == provider
    assert Settings(_env_file=None).sso_provider("other") is None


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"clientid": "typo"}, "Extra inputs are not permitted"),
        ({"name": "Has Spaces"}, "name"),
        ({"issuer": "not a url"}, "issuer"),
        ({"scopes": ["email"]}, "must include openid"),
        ({"groups_claim": None}, "group_mapping needs groups_claim"),
    ],
)
def test_a_bad_sso_provider_is_refused_clearly(change: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint) as refused:
        Settings(_env_file=None, SSO_PROVIDERS=[SSO_PROVIDER | change])
    assert "SSO_PROVIDERS" in str(refused.value)


def test_sso_provider_names_are_unique() -> None:
    with pytest.raises(ValidationError, match="a name of its own"):
        Settings(_env_file=None, SSO_PROVIDERS=[SSO_PROVIDER, SSO_PROVIDER])


def test_sso_timeouts_are_bounded() -> None:
    assert Settings(_env_file=None).SSO_HTTP_TIMEOUT == 5
    assert Settings(_env_file=None).SSO_CLOCK_SKEW_SECONDS == 60
    with pytest.raises(ValidationError, match="SSO_HTTP_TIMEOUT"):
        Settings(_env_file=None, SSO_HTTP_TIMEOUT=0)


def test_an_sso_provider_needs_a_real_client_secret_outside_local() -> None:
    with pytest.raises(ValidationError, match="corp's client_secret must be set"):
        production(SSO_PROVIDERS=[SSO_PROVIDER | {"client_secret": "changethis"}])
    assert production(SSO_PROVIDERS=[SSO_PROVIDER]).SSO_PROVIDERS[0].name == "corp"
