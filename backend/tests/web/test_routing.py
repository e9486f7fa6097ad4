"""Every path of the API answers with and without its trailing slash, the same way,
and never by a redirect: a client that does not follow one (or resends no body
after one) must not trip on the spelling."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.utils.databases import same_on_every_database

REDIRECTS = {301, 302, 303, 307, 308}


@same_on_every_database
def test_every_path_answers_alike_with_and_without_its_trailing_slash(
    app: Flask, client: FlaskClient
) -> None:
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        # A value for each parameter: the answer (401, 404, 422...) does not matter,
        # only that both spellings get the same one.
        path = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule).rstrip("/")
        method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        without = client.open(path, method=method)
        with_slash = client.open(path + "/", method=method)
        assert without.status_code not in REDIRECTS, (method, path, without.headers)
        assert with_slash.status_code not in REDIRECTS, (method, path + "/", with_slash.headers)
        assert without.status_code == with_slash.status_code, (method, path)
        checked += 1
    assert checked > 20
