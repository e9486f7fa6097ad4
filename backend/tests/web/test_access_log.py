"""The access line: one per request, by route template, with the request's context;
none for Prometheus's scrapes."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "app.access"]


def test_a_request_gets_one_line_with_its_route_status_size_and_id(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.access"):
        response = client.get(
            "/api/v1/items/123456?token=secret-in-query", headers={"X-Request-ID": "access-1"}
        )

    [record] = access_records(caplog)
    fields = record.__dict__
    assert fields["route"] == "/api/v1/items/<int:item_id>"
    assert fields["status"] == response.status_code
    assert fields["method"] == "GET"
    assert fields["bytes"] == len(response.data)
    assert fields["duration_ms"] >= 0
    assert fields["request_id"] == "access-1"
    assert "123456" not in record.getMessage()
    assert "secret-in-query" not in record.getMessage()


def test_prometheus_scrapes_leave_no_line(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.access"):
        assert client.get("/metrics").status_code == 200
        client.get("/api/v1/utils/health-check/")

    assert [record.__dict__["route"] for record in access_records(caplog)] == [
        "/api/v1/utils/health-check/"
    ]
