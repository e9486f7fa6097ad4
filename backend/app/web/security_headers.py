"""Security headers on every response, set by the app itself: a deployment without
Traefik in front (`make api`, another proxy) is as safe as the stack.

API answers are JSON and must never be rendered, framed or sniffed as anything
else: their policy allows no content at all. The interactive docs are a page of
their own: Swagger UI's scripts and styles from this origin, and its one inline
set-up script allowed by its hash (computed from the page as rendered, since it
holds the spec's URL), never 'unsafe-inline' for scripts.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from flask import Flask, Response, request
from flask_restx import apidoc

COMMON = {
    "X-Content-Type-Options": "nosniff",
    # Old browsers' frame-ancestors: no site may frame these pages (clickjacking).
    "X-Frame-Options": "DENY",
    # URLs can carry reset tokens: send them nowhere.
    "Referrer-Policy": "no-referrer",
}
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI styles itself inline and draws icons as data: images.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' {scripts}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
DOCS_PAGE = "api.doc"
# The page Swagger UI's OAuth2 flow returns to: a static file with an inline script.
OAUTH_REDIRECT = "oauth2-redirect.html"
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def script_hashes(html: bytes) -> str:
    """CSP sources allowing exactly the inline scripts of `html`."""
    return " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
        for body in _INLINE_SCRIPT.findall(html)
    )


class SecurityHeaders:
    def __init__(self) -> None:
        static = Path(apidoc.apidoc.static_folder or "")
        redirect = static / OAUTH_REDIRECT
        self._redirect_policy = DOCS_POLICY.format(
            scripts=script_hashes(redirect.read_bytes()) if redirect.is_file() else ""
        )

    def __call__(self, response: Response) -> Response:
        headers = response.headers
        for name, value in COMMON.items():
            headers.setdefault(name, value)
        if request.endpoint == DOCS_PAGE and not response.direct_passthrough:
            policy = DOCS_POLICY.format(scripts=script_hashes(response.get_data()))
        elif request.endpoint == "restx_doc.static" and request.path.endswith(OAUTH_REDIRECT):
            policy = self._redirect_policy
        elif request.endpoint == "restx_doc.static":
            policy = DOCS_POLICY.format(scripts="")
        else:
            policy = API_POLICY
        headers.setdefault("Content-Security-Policy", policy)
        if request.is_secure:
            # Behind a proxy that says it was HTTPS (PROXY_COUNT): stay on HTTPS.
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def init_app(app: Flask) -> None:
    app.after_request(SecurityHeaders())
