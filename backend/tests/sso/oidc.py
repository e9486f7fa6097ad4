"""A real OpenID provider for the single sign-on tests: panva's oidc-provider
(provider/provider.js, installed by scripts/lib.sh's ensure_sso_test_provider)
started on a free loopback port, and a browser's part of a sign-in at its
development login and consent pages, played with requests."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from app.devtools.ports import free_port

PROVIDER_DIR = Path(__file__).parent / "provider"
CLIENT_SECRET = "sso-test-client-secret"
STARTUP_SECONDS = 15


@dataclass(frozen=True)
class OidcProvider:
    issuer: str


@contextmanager
def oidc_provider(redirect_uris: list[str]) -> Iterator[OidcProvider]:
    node = shutil.which("node")
    if node is None or not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        # make test installs it (scripts/lib.sh: ensure_sso_test_provider).
        pytest.fail(f"the OpenID provider is not installed: cd {PROVIDER_DIR} && npm ci")
    port = free_port()
    env = {
        **os.environ,
        "SSO_TEST_PORT": str(port),
        "SSO_TEST_REDIRECT_URIS": ",".join(redirect_uris),
        "SSO_TEST_CLIENT_SECRET": CLIENT_SECRET,
    }
    process = subprocess.Popen(
        [node, "provider.js"],
        cwd=PROVIDER_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        line = process.stdout.readline()
        if not line.startswith("listening ") or time.monotonic() > deadline:
            raise RuntimeError(f"the OpenID provider did not start: {line!r}")
        yield OidcProvider(issuer=line.split()[1])
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


_FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


def sign_in_at_provider(
    authorize_url: str, callback_prefix: str, login: str, *, consent: bool = True
) -> str:
    """What a browser does at the provider: follows its redirects, logs in as
    `login` on its login page, then agrees (or declines: `consent=False`) on its
    consent page. Returns the URL the provider sends the browser back to."""
    browser = requests.Session()
    url = authorize_url
    for _ in range(20):
        if url.startswith(callback_prefix):
            return url
        response = browser.get(url, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            continue
        assert response.status_code == 200, response.text[:500]
        match = _FORM_ACTION.search(response.text)
        assert match, response.text[:500]
        submit = urljoin(url, html.unescape(match[1]))
        if 'name="prompt" value="login"' in response.text:
            form = {"prompt": "login", "login": login, "password": "any password"}
        elif consent:
            form = {"prompt": "consent"}
        else:
            url = f"{submit}/abort"
            continue
        response = browser.post(submit, data=form, allow_redirects=False, timeout=10)
        assert response.is_redirect, response.text[:500]
        url = urljoin(submit, response.headers["Location"])
    raise AssertionError("the provider never sent the browser back")
