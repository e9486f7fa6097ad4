"""What every response carries, and what only some may.

Security headers on every response, set by the app itself: a deployment without
Traefik in front (`make api`, another proxy) is as safe as the stack.

API answers are JSON and must never be rendered, framed or sniffed as anything
else: their policy allows no content at all. The interactive docs are pages of
their own: Swagger UI's scripts and styles from this origin, and their inline
set-up scripts allowed by hash, never 'unsafe-inline' for scripts. The docs
page's hash is computed as it is rendered (the script holds the spec's URL;
`docs_page`); the OAuth2 redirect page is a static file, hashed once.

Retry-After means "come back later": only a 429 or a 503 says that, though the
rate limiter adds it to every answer of a limited endpoint.

A WSGI middleware rather than Flask hooks: every request passes through it, and
appending prepared header pairs costs a fraction of a hook's call (`make bench`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Response
from flask_restx import Api, apidoc

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI styles itself inline and draws icons as data: images.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' {scripts}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    # Old browsers' frame-ancestors: no site may frame these pages (clickjacking).
    ("X-Frame-Options", "DENY"),
    # URLs can carry reset tokens: send them nowhere.
    ("Referrer-Policy", "no-referrer"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000")
CSP = "Content-Security-Policy"
RETRY_AFTER = "retry-after"
COME_BACK_LATER = ("429", "503")
# Where Swagger UI's own files are served (the apidoc blueprint, under /api).
DOCS_ASSETS = "/api/swaggerui/"
OAUTH_REDIRECT = "oauth2-redirect.html"
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def script_hashes(html: bytes) -> str:
    """CSP sources allowing exactly the inline scripts of `html`."""
    return " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
        for body in _INLINE_SCRIPT.findall(html)
    )


class ResponseHeaders:
    """Adds the security headers a response does not set itself (the docs page sets
    its own CSP), and drops a Retry-After that is not a 429's or a 503's."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        redirect = Path(apidoc.apidoc.static_folder or "") / OAUTH_REDIRECT
        scripts = script_hashes(redirect.read_bytes()) if redirect.is_file() else ""
        self._api = (*HEADERS, (CSP, API_POLICY))
        self._assets = (*HEADERS, (CSP, DOCS_POLICY.format(scripts="")))
        self._redirect = (*HEADERS, (CSP, DOCS_POLICY.format(scripts=scripts)))

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        added: tuple[tuple[str, str], ...]
        if not path.startswith(DOCS_ASSETS):
            added = self._api
        elif path.endswith(OAUTH_REDIRECT):
            added = self._redirect
        else:
            added = self._assets
        if environ.get("wsgi.url_scheme") == "https":
            # Behind a proxy that says it was HTTPS (PROXY_COUNT): stay on HTTPS.
            added = (*added, HSTS)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            if RETRY_AFTER in present and status[:3] not in COME_BACK_LATER:
                headers = [pair for pair in headers if pair[0].lower() != RETRY_AFTER]
            headers.extend(pair for pair in added if pair[0].lower() not in present)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def docs_page(api: Api) -> Callable[[], Response]:
    """The interactive docs page, with a policy allowing its own inline script."""

    def render() -> Response:
        response = Response(apidoc.ui_for(api), mimetype="text/html")
        response.headers[CSP] = DOCS_POLICY.format(scripts=script_hashes(response.get_data()))
        return response

    return render
