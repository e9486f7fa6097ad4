"""Tracing end to end: a POST /jobs/ on the API and its job's run in a real worker
process are one trace. The API's spans are read from the SDK's in-memory exporter;
the worker's, from what its real OTLP/HTTP exporter posts to a stand-in collector."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.orm import Session

from app.core import tracing
from app.runtime import Runtime
from tests.conftest import make_settings
from tests.utils.brokers import Broker, filesystem_broker, redis_broker
from tests.utils.factories import auth_headers, make_user
from tests.utils.otlp import Collector, collecting
from tests.utils.worker import (
    Worker,
    client_on_broker,
    running_worker,
    start_job,
    wait_for_job,
    wait_until,
)

# A Redis database of these tests' own.
REDIS_DB = 7
SLUG = "tracing-test"


@pytest.fixture(scope="module", params=["filesystem", "redis"])
def broker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Broker:
    if request.param == "redis":
        return redis_broker(REDIS_DB)
    return filesystem_broker(tmp_path_factory.mktemp("broker"))


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    with collecting() as running:
        yield running


@pytest.fixture(scope="module")
def worker(
    broker: Broker, runtime: Runtime, log_dir: Path, collector: Collector
) -> Iterator[Worker]:
    with running_worker(
        database_url=runtime.settings.DATABASE_URL,
        broker_url=broker.url,
        log_dir=log_dir,
        settings=broker.settings
        | {
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            "PROJECT_SLUG": SLUG,
            # Export within a tenth of a second rather than the default 5 s.
            "OTEL_BSP_SCHEDULE_DELAY": 100,
        },
    ) as started:
        yield started


@pytest.fixture
def exported(runtime: Runtime) -> Iterator[InMemorySpanExporter]:
    """Tracing on in this process (the API's side), into memory."""
    exporter = InMemorySpanExporter()
    settings = make_settings(
        runtime.settings.DATABASE_URL,
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9/unused",
        PROJECT_SLUG=SLUG,
    )
    assert tracing.init(settings, "api", engines=[runtime.engine], exporter=exporter)
    try:
        yield exporter
    finally:
        tracing.shutdown()


@pytest.fixture
def api(
    runtime: Runtime, broker: Broker, worker: Worker, db: Session, exported: InMemorySpanExporter
) -> Iterator[FlaskClient]:
    with client_on_broker(
        runtime, broker, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9/unused"
    ) as client:
        yield client


def _spans(exporter: InMemorySpanExporter) -> tuple[ReadableSpan, ...]:
    provider = tracing.provider()
    assert provider is not None
    provider.force_flush()
    return exporter.get_finished_spans()


def test_a_job_and_the_request_that_enqueued_it_are_one_trace(
    api: FlaskClient,
    runtime: Runtime,
    db: Session,
    worker: Worker,
    collector: Collector,
    exported: InMemorySpanExporter,
) -> None:
    headers = auth_headers(runtime, make_user(db, runtime, permissions=["jobs:run"]))
    created = start_job(api, headers | {"X-Request-ID": "traced-request-1"}, seconds=0)

    spans = _spans(exported)
    (request,) = [s for s in spans if s.kind is SpanKind.SERVER and s.name.startswith("POST")]
    assert request.name == "POST /api/v1/jobs/"
    assert request.resource.attributes["service.name"] == f"{SLUG}-api"
    assert request.attributes is not None
    assert request.attributes["app.request_id"] == "traced-request-1"
    trace_id = request.context.trace_id
    (send,) = [s for s in spans if s.kind is SpanKind.PRODUCER]
    assert send.name == "send jobs.run"
    assert send.context.trace_id == trace_id
    # The job's INSERT, within the request.
    assert any(
        s.kind is SpanKind.CLIENT and s.context.trace_id == trace_id and "INSERT" in s.name
        for s in spans
    ), [s.name for s in spans]

    wait_for_job(api, headers, created["id"], worker=worker)
    traced = f"{trace_id:032x}"
    # The collector is the module's: earlier tests' spans are there too.
    run = wait_until(
        lambda: next(
            (s for s in collector.spans if s.name == "run/jobs.run" and s.trace_id == traced),
            None,
        ),
        timeout=15,
        what=lambda: f"the job's span in trace {traced} (received: {collector.spans})",
    )
    assert run.service == f"{SLUG}-worker-default"
    # Its parent is the API's send span, in the other process.
    assert run.parent_span_id == f"{send.context.span_id:016x}"
    # The job's own statements (claiming it, finishing it) are in the trace too.
    statements = wait_until(
        lambda: [
            s
            for s in collector.spans
            if s.trace_id == traced and s.parent_span_id == run.span_id and "UPDATE" in s.name
        ],
        timeout=15,
        what="the job's SQL spans",
    )
    assert all(s.service == run.service for s in statements)
