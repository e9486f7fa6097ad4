"""Tracing's switch, names and sampling (app/core/tracing.py). End to end: the API
server's export in tests/web/test_tracing.py, a job's trace across the API and a
worker in tests/worker/process/test_tracing.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased
from opentelemetry.trace import SpanKind

from app.core import tracing
from app.core.config import BACKEND_DIR
from app.core.tracing_setup import NoOrphanClients, _otlp_exporter
from tests.conftest import make_settings

# Builds the API and the default worker module's Celery app with no OTEL_* setting,
# and lists what of OpenTelemetry got imported or set up.
_OFF_PROBE = """
import json, sys
from app.core import tracing
from app.web import create_app
import worker.main
app = create_app()
loaded = sorted(m for m in sys.modules if m.startswith((
    "opentelemetry.sdk.trace", "opentelemetry.instrumentation", "opentelemetry.exporter",
    "app.core.tracing_setup", "app.web.tracing",
)))
print(json.dumps({
    "loaded": loaded,
    "provider": tracing.provider() is not None,
    "wrapped": hasattr(app, "_original_wsgi_app"),
}))
"""


def test_off_without_an_endpoint_imports_and_instruments_nothing(tmp_path: object) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("OTEL_") and key not in ("DATABASE_URL", "SENTRY_DSN")
    }
    env |= {"ENV_FILE": "/dev/null", "DATABASE_URL": f"sqlite:///{tmp_path}/db"}
    result = subprocess.run(
        [sys.executable, "-c", _OFF_PROBE],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe == {"loaded": [], "provider": False, "wrapped": False}


def test_on_only_with_an_endpoint() -> None:
    assert not tracing.enabled(make_settings("sqlite://"))
    assert not tracing.enabled(make_settings("sqlite://", OTEL_EXPORTER_OTLP_ENDPOINT=""))
    assert tracing.enabled(make_settings("sqlite://", OTEL_EXPORTER_OTLP_ENDPOINT="http://c:4318"))
    assert not tracing.init(make_settings("sqlite://"), "api")
    assert tracing.provider() is None


def test_service_name_defaults_to_the_project_and_component() -> None:
    settings = make_settings("sqlite://", PROJECT_SLUG="shop")
    assert tracing.service_name(settings, "api") == "shop-api"
    assert tracing.service_name(settings, "worker-ml") == "shop-worker-ml"
    named = make_settings("sqlite://", PROJECT_SLUG="shop", OTEL_SERVICE_NAME="storefront")
    assert tracing.service_name(named, "api") == "storefront"


def test_exports_to_the_base_urls_traces_path() -> None:
    settings = make_settings("sqlite://", OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318/")
    exporter = _otlp_exporter(settings)
    try:
        assert exporter._endpoint == "http://collector:4318/v1/traces"
    finally:
        exporter.shutdown()


def test_client_calls_outside_any_request_or_task_are_not_traced() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(NoOrphanClients()))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer(__name__)

    with tracer.start_as_current_span("polling", kind=SpanKind.CLIENT):
        pass
    with (
        tracer.start_as_current_span("GET /users/me", kind=SpanKind.SERVER),
        tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT),
    ):
        pass
    with tracer.start_as_current_span("run/jobs.run", kind=SpanKind.CONSUMER):
        pass

    assert sorted(s.name for s in exporter.get_finished_spans()) == [
        "GET /users/me",
        "SELECT",
        "run/jobs.run",
    ]
    provider.shutdown()
