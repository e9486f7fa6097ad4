"""The API's /metrics stays off the public site: the proxies route /api alone to
the API, so the site's /metrics is the frontend's. Checked on `make dev`'s Traefik
(a real one, on its own configuration) and on the rules of every compose file."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import yaml

from app.core.config import REPO_DIR
from app.devtools.ports import LOOPBACK, free_port
from tests.utils.server import dev_proxy

COMPOSE_FILES = ["compose.yaml", "compose.test.yaml", "compose.dev.yaml", "stack.yaml"]


class ComposeLoader(yaml.SafeLoader):
    """YAML as compose writes it: its own tags (!reset, !override) read as plain values."""


ComposeLoader.add_multi_constructor(
    "!",
    lambda loader, suffix, node: (
        loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node)
        if isinstance(node, yaml.MappingNode)
        else loader.construct_scalar(node)
    ),
)


def named_server(name: str) -> ThreadingHTTPServer:
    """An HTTP server answering every GET with its own name."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = name.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    api, frontend = named_server("api"), named_server("frontend")
    try:
        with dev_proxy(
            api_port=api.server_address[1],
            frontend_port=frontend.server_address[1],
            cwd=tmp_path_factory.mktemp("traefik"),
        ) as base:
            yield base
    finally:
        for server in (api, frontend):
            server.shutdown()
            server.server_close()


@pytest.mark.parametrize(
    "path", ["/metrics", "/metrics/", "/api/../metrics", "/x/../metrics", "/api/%2e%2e/metrics"]
)
def test_dev_proxy_sends_metrics_paths_to_the_frontend(proxy: str, path: str) -> None:
    # A prepared request: requests would resolve the dots itself.
    with requests.Session() as session:
        prepared = requests.Request("GET", proxy + "/").prepare()
        prepared.url = proxy + path
        answer = session.send(prepared, timeout=5)

    assert answer.text == "frontend"


def test_dev_proxy_sends_api_paths_to_the_api(proxy: str) -> None:
    assert requests.get(f"{proxy}/api/v1/users/me", timeout=5).text == "api"


@pytest.mark.parametrize("path", ["/apifoo", "/api-docs", "/apiary/"])
def test_dev_proxy_sends_paths_merely_starting_with_api_to_the_frontend(
    proxy: str, path: str
) -> None:
    assert requests.get(proxy + path, timeout=5).text == "frontend"


def backend_rules(document: dict[str, Any]) -> list[str]:
    """The rules of the Traefik routers declared on the backend service."""
    service = (document.get("services") or {}).get("backend") or {}
    labels: list[str] = []
    for found in (service.get("labels"), (service.get("deploy") or {}).get("labels")):
        if isinstance(found, dict):
            labels += [f"{key}={value}" for key, value in found.items()]
        elif isinstance(found, list):
            labels += [str(label) for label in found]
    return [
        label.split("=", 1)[1]
        for label in labels
        if re.match(r"traefik\.http\.routers\.[^.=]+\.rule=", label)
    ]


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_routes_only_api_paths_to_the_backend(name: str) -> None:
    document = yaml.load((REPO_DIR / "compose" / name).read_text(), Loader=ComposeLoader)  # noqa: S506

    for rule in backend_rules(document):
        assert "PathPrefix(`/api/`)" in rule, f"{name}: {rule}"
        assert "||" not in rule, f"{name}: {rule} may route more than /api"
