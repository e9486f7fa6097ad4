"""OpenTelemetry's side of app.core.tracing, imported only once tracing is on."""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.types import Attributes
from sqlalchemy import Engine

from app.core.config import Settings

TRACES_PATH = "/v1/traces"


class NoOrphanClients(Sampler):
    """Samples every trace but those that would start with a client call (SQL,
    Redis) made outside any request or task: the broker's polling, connection
    checks, start-up queries. Alone each would be a trace, by the thousand."""

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if kind is SpanKind.CLIENT:
            return SamplingResult(Decision.DROP)
        return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)

    def get_description(self) -> str:
        return "NoOrphanClients"


def start(
    settings: Settings,
    service: str,
    *,
    engines: Sequence[Engine],
    celery: bool,
    exporter: SpanExporter | None,
) -> TracerProvider:
    resource = Resource.create(
        {"service.name": service, "deployment.environment.name": settings.ENVIRONMENT}
    )
    # OTEL_TRACES_SAMPLER, when set, replaces ours (the SDK reads it).
    sampler = None if os.environ.get("OTEL_TRACES_SAMPLER") else ParentBased(NoOrphanClients())
    provider = TracerProvider(resource=resource, sampler=sampler)
    provider.add_span_processor(BatchSpanProcessor(exporter or _otlp_exporter(settings)))
    trace.set_tracer_provider(provider)
    # Its declared range stops short of SQLAlchemy 2.1, whose engine events it uses
    # unchanged: tests/worker/process/test_tracing.py checks the spans arrive.
    SQLAlchemyInstrumentor().instrument(
        tracer_provider=provider, engines=list(engines), skip_dep_check=True
    )
    RedisInstrumentor().instrument(tracer_provider=provider)
    if celery:
        from opentelemetry.instrumentation.celery import CeleryInstrumentor

        CeleryInstrumentor().instrument(tracer_provider=provider)
    return provider


def stop(provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.celery import CeleryInstrumentor

    for instrumentor in (SQLAlchemyInstrumentor(), RedisInstrumentor(), CeleryInstrumentor()):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
    provider.shutdown()


def _otlp_exporter(settings: Settings) -> OTLPSpanExporter:
    """The OTLP/HTTP exporter: to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT when set (the
    SDK reads it), else to the base URL's /v1/traces."""
    if os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return OTLPSpanExporter()
    base = str(settings.OTEL_EXPORTER_OTLP_ENDPOINT)
    return OTLPSpanExporter(endpoint=base.rstrip("/") + TRACES_PATH)


@contextmanager
def sending(
    provider: TracerProvider, task: str, queue: str | None, headers: MutableMapping[str, Any]
) -> Iterator[None]:
    """Celery's own instrumentation makes this span only for the tasks the sending
    process has registered, which the API never has (it sends by name)."""
    tracer = provider.get_tracer(__name__)
    attributes = {"messaging.system": "celery", "messaging.operation.type": "send"}
    if queue:
        attributes["messaging.destination.name"] = queue
    with tracer.start_as_current_span(
        f"send {task}", kind=SpanKind.PRODUCER, attributes=attributes
    ):
        propagate.inject(headers)
        yield
