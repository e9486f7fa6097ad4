"""Tracing with OpenTelemetry, for the API and every worker module: off unless
OTEL_EXPORTER_OTLP_ENDPOINT is set, and then nothing of OpenTelemetry is even
imported (this module imports it only once tracing is on: app.core.tracing_setup).

On, each process exports its spans over OTLP/HTTP: the API's requests (Flask),
SQL statements (SQLAlchemy), Redis commands, and the tasks the workers run
(Celery). A task carries its sender's trace context (W3C `traceparent`) in its
message headers, beside the request id, so that an API request and the job it
enqueued are one trace.

Set up per process, after any fork: the API's app factory runs in each server
process, a prefork worker's pool processes set it up on `worker_process_init`.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from app.core.config import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from sqlalchemy import Engine

# This process's provider, once tracing is on.
_provider: TracerProvider | None = None


def enabled(settings: Settings) -> bool:
    return bool(settings.OTEL_EXPORTER_OTLP_ENDPOINT)


def service_name(settings: Settings, component: str) -> str:
    """OTEL_SERVICE_NAME, else the project's short name and the component's:
    full-stack-flask-api, full-stack-flask-worker-ml."""
    return settings.OTEL_SERVICE_NAME or f"{settings.PROJECT_SLUG}-{component}"


def init(
    settings: Settings,
    component: str,
    *,
    engines: Sequence[Engine] = (),
    celery: bool = False,
    exporter: SpanExporter | None = None,
) -> bool:
    """Start tracing this process when OTEL_EXPORTER_OTLP_ENDPOINT is set (once per
    process); whether it is on. `component` names the service ("api", "worker-ml");
    `engines`: those made before (later ones are traced as they are created);
    `celery`: trace the tasks this process runs. `exporter` replaces the OTLP one
    (tests)."""
    global _provider
    if not enabled(settings):
        return False
    from app.core import tracing_setup  # OpenTelemetry: imported only when on

    if _provider is None:
        _provider = tracing_setup.start(
            settings,
            service_name(settings, component),
            engines=engines,
            celery=celery,
            exporter=exporter,
        )
    return True


def provider() -> TracerProvider | None:
    """This process's tracer provider; None while tracing is off."""
    return _provider


def shutdown() -> None:
    """Export what is left and stop tracing this process (tests; exit)."""
    global _provider
    if _provider is None:
        return
    from app.core import tracing_setup

    tracing_setup.stop(_provider)
    _provider = None


@contextmanager
def sending(task: str, queue: str | None, headers: MutableMapping[str, Any]) -> Iterator[None]:
    """While a task is sent: a producer span, whose context goes into the task's
    message `headers` for the worker to continue the trace. Nothing when off."""
    if _provider is None:
        yield
        return
    from app.core import tracing_setup

    with tracing_setup.sending(_provider, task, queue, headers):
        yield
