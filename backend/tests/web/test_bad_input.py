"""Hostile and malformed input on every endpoint that takes some: always a clear 4xx
with a message (naming the field where one is at fault), never a 500.

Each write endpoint is described once in ENDPOINTS; the tests run over that table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import User
from app.runtime import Runtime
from app.services import auth
from tests.utils.assertions import assert_client_error, assert_error
from tests.utils.databases import same_on_every_database
from tests.utils.factories import DEFAULT_PASSWORD, make_group, make_item, make_user

API = "/api/v1"


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # may name {user_id}, {group_id}, {item_id}
    body: dict[str, Any]  # a valid body; strings may name {reset_token}
    strings: dict[str, int | None]  # string field -> maximum length (None: no maximum)
    booleans: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    nullable: tuple[str, ...] = ()
    echoed: tuple[str, ...] = ()  # text returned (and read back) exactly as sent
    read: str | None = None  # where the result can be read again, by its id
    strict: bool = True  # unknown fields refused, bad characters named
    json_only: bool = True  # other content types refused
    fields: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", (*self.strings, *self.booleans, *self.lists))


USER_STRINGS: dict[str, int | None] = {"email": 255, "password": 128, "full_name": 255}
GROUP_STRINGS: dict[str, int | None] = {"name": 100, "description": 1000}
ITEM_STRINGS: dict[str, int | None] = {"title": 255, "description": 10_000}

ENDPOINTS = [
    Endpoint(
        "create_user",
        "POST",
        "/users/",
        {
            "email": "new@example.com",
            "password": "a-long-password",
            "full_name": "New",
            "is_active": True,
            "is_superuser": False,
        },
        USER_STRINGS,
        booleans=("is_active", "is_superuser"),
        required=("email", "password"),
        nullable=("full_name",),
        echoed=("full_name",),
        read="/users/{id}",
    ),
    Endpoint(
        "signup",
        "POST",
        "/users/signup",
        {"email": "new@example.com", "password": "a-long-password", "full_name": "New"},
        USER_STRINGS,
        required=("email", "password"),
        nullable=("full_name",),
        echoed=("full_name",),
        read="/users/{id}",
    ),
    Endpoint(
        "update_user_me",
        "PATCH",
        "/users/me",
        # A new email is confirmed with the caller's password (the factories' default).
        {"email": "me@example.com", "full_name": "Me", "current_password": DEFAULT_PASSWORD},
        {"email": 255, "full_name": 255},
        nullable=("full_name",),
        echoed=("full_name",),
        read="/users/me",
    ),
    Endpoint(
        "update_password_me",
        "PATCH",
        "/users/me/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": "a-new-password"},
        {"current_password": 128, "new_password": 128},
        required=("current_password", "new_password"),
    ),
    Endpoint(
        "update_user",
        "PATCH",
        "/users/{user_id}",
        {
            "email": "other@example.com",
            "password": "a-new-password",
            "full_name": "Other",
            "is_active": True,
            "is_superuser": False,
        },
        USER_STRINGS,
        booleans=("is_active", "is_superuser"),
        nullable=("full_name",),
        echoed=("full_name",),
        read="/users/{id}",
    ),
    Endpoint(
        "create_group",
        "POST",
        "/groups/",
        {"name": "Team", "description": "About", "permissions": ["items:read_all"]},
        GROUP_STRINGS,
        lists=("permissions",),
        required=("name",),
        nullable=("description",),
        echoed=("name", "description"),
        read="/groups/{id}",
    ),
    Endpoint(
        "update_group",
        "PATCH",
        "/groups/{group_id}",
        {"name": "Renamed", "description": "About", "permissions": ["jobs:run"]},
        GROUP_STRINGS,
        lists=("permissions",),
        nullable=("description",),
        echoed=("name", "description"),
        read="/groups/{id}",
    ),
    Endpoint(
        "create_item",
        "POST",
        "/items/",
        {"title": "Title", "description": "Text"},
        ITEM_STRINGS,
        required=("title",),
        nullable=("description",),
        echoed=("title", "description"),
        read="/items/{id}",
    ),
    Endpoint(
        "update_item",
        "PATCH",
        "/items/{item_id}",
        {"title": "New title", "description": "New text"},
        ITEM_STRINGS,
        nullable=("description",),
        echoed=("title", "description"),
        read="/items/{id}",
    ),
    Endpoint(
        "reset_password",
        "POST",
        "/reset-password/",
        {"token": "{reset_token}", "new_password": "a-new-password"},
        {"token": 256, "new_password": 128},
        required=("token", "new_password"),
    ),
    # Login takes a form (OAuth2) or JSON, and ignores what it doesn't know.
    Endpoint(
        "login",
        "POST",
        "/login/access-token",
        {"username": "admin@example.com", "password": DEFAULT_PASSWORD},
        {"username": None, "password": None},
        required=("username", "password"),
        strict=False,
        json_only=False,
    ),
]


def _cases(attribute: str) -> list[Any]:
    """(endpoint, field) pairs over the fields named by `attribute`, for parametrize."""
    return [
        pytest.param(endpoint, name, id=f"{endpoint.name}-{name}")
        for endpoint in ENDPOINTS
        for name in getattr(endpoint, attribute)
    ]


def _endpoints(predicate: Any = None) -> list[Any]:
    return [
        pytest.param(endpoint, id=endpoint.name)
        for endpoint in ENDPOINTS
        if predicate is None or predicate(endpoint)
    ]


@dataclass
class Caller:
    """Sends requests to one endpoint as a superuser, with its ids filled in."""

    client: FlaskClient
    headers: dict[str, str]
    context: dict[str, Any]

    def body(self, endpoint: Endpoint, **changes: Any) -> dict[str, Any]:
        body = {
            k: v.format_map(self.context) if isinstance(v, str) else v
            for k, v in endpoint.body.items()
        }
        body.update(changes)
        return body

    def send(
        self,
        endpoint: Endpoint,
        data: bytes | str | None = None,
        *,
        json_body: Any = None,
        content_type: str | None = "application/json",
    ) -> Any:
        if json_body is not None:
            data = json.dumps(json_body)
        return self.client.open(
            API + endpoint.path.format_map(self.context),
            method=endpoint.method,
            data=data,
            content_type=content_type,
            headers=self.headers,
        )

    def send_raw_value(self, endpoint: Endpoint, name: str, raw: str) -> Any:
        """The valid body with field `name` set to the JSON text `raw`, sent as is."""
        text = json.dumps(self.body(endpoint, **{name: "\x00RAW\x00"}))
        return self.send(endpoint, text.replace(json.dumps("\x00RAW\x00"), raw))

    def read(self, endpoint: Endpoint, response_body: dict[str, Any]) -> dict[str, Any]:
        assert endpoint.read is not None
        response = self.client.get(
            API + endpoint.read.format(id=response_body.get("id")), headers=self.headers
        )
        assert response.status_code == 200
        body = response.get_json()
        assert isinstance(body, dict)
        return body


@pytest.fixture
def caller(
    client: FlaskClient,
    db: Session,
    runtime: Runtime,
    superuser: User,
    superuser_headers: dict[str, str],
) -> Caller:
    other = make_user(db, runtime, email="someone@example.com")
    group = make_group(db, name="Existing")
    item = make_item(db, superuser)
    reset_token = auth.create_password_reset_token(
        session=db, settings=runtime.settings, user=other
    )
    db.commit()
    context = {
        "user_id": other.id,
        "group_id": group.id,
        "item_id": item.id,
        "reset_token": reset_token,
    }
    return Caller(client, superuser_headers, context)


# --- the body as a whole -------------------------------------------------------------


@pytest.mark.parametrize("endpoint", _endpoints())
def test_send_valid_body_succeeds(caller: Caller, endpoint: Endpoint) -> None:
    response = caller.send(endpoint, json_body=caller.body(endpoint))
    assert response.status_code in (200, 201), response.get_data(as_text=True)


MALFORMED = [
    b"",
    b"{",
    b'{"a": ',
    b"{'a': 1}",
    b'{"a": 1,}',
    b'{"a": 1}}',
    b"{,}",
    b"undefined",
    b'{"a": "unterminated}',
    b'{"a": 1} trailing',
    b"\xff\xfe{\x00}",
    b'{"a": "\xc3\x28"}',  # invalid UTF-8
    b'{"a": ' + b"1" * 5000 + b"}",  # beyond Python's integer parsing limit
]


@same_on_every_database
@pytest.mark.parametrize("endpoint", _endpoints())
def test_send_malformed_json_returns_4xx(caller: Caller, endpoint: Endpoint) -> None:
    for data in MALFORMED:
        response = caller.send(endpoint, data)
        assert response.status_code in (400, 422), (data, response.get_data(as_text=True))
        assert_client_error(response)


@same_on_every_database
@pytest.mark.parametrize("endpoint", _endpoints())
def test_send_non_object_json_returns_4xx(caller: Caller, endpoint: Endpoint) -> None:
    for value in ([], [caller.body(endpoint)], "text", 42, 1.5, True, None):
        response = caller.send(endpoint, json.dumps(value))
        assert response.status_code in (400, 422), response.get_data(as_text=True)
        assert_client_error(response)


@same_on_every_database
@pytest.mark.parametrize("endpoint", _endpoints())
def test_send_deeply_nested_json_returns_4xx(caller: Caller, endpoint: Endpoint) -> None:
    depth = 100_000
    for data in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth):
        assert_client_error(caller.send(endpoint, data))


@same_on_every_database
@pytest.mark.parametrize("endpoint", _endpoints())
def test_send_body_over_size_limit_returns_413(caller: Caller, endpoint: Endpoint) -> None:
    name = next(iter(endpoint.strings))
    response = caller.send(endpoint, json_body=caller.body(endpoint, **{name: "x" * 2**21}))
    assert_error(response, 413)


@same_on_every_database
@pytest.mark.parametrize("endpoint", _endpoints(lambda e: e.strict))
def test_send_unknown_field_returns_422(caller: Caller, endpoint: Endpoint) -> None:
    for extra in ("surprise", "id", "owner_id", "hashed_password", "__proto__"):
        response = caller.send(endpoint, json_body=caller.body(endpoint, **{extra: 1}))
        assert_error(response, 422, field=extra)


@same_on_every_database
@pytest.mark.parametrize("endpoint", _endpoints(lambda e: e.json_only))
def test_send_non_json_content_type_returns_4xx(caller: Caller, endpoint: Endpoint) -> None:
    valid = json.dumps(caller.body(endpoint))
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        None,
    ):
        response = caller.send(endpoint, valid, content_type=content_type)
        assert response.status_code in (400, 415, 422), response.get_data(as_text=True)
        assert_client_error(response)


# --- single fields -------------------------------------------------------------------

WRONG_FOR_STRING = ["123", "-1.5", "true", "false", "[]", '["a"]', "{}", '{"a": "b"}']
WRONG_FOR_BOOLEAN = ['"true"', '"yes"', "1", "0", "null", "[]", "{}", '"on"']
WRONG_FOR_LIST = ['"items:read_all"', "{}", "true", "null", "[1]", "[null]", '[["jobs:run"]]']
NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e400"]


@same_on_every_database
@pytest.mark.parametrize("endpoint, name", _cases("fields"))
def test_send_field_of_wrong_type_returns_422(
    caller: Caller, endpoint: Endpoint, name: str
) -> None:
    if name in endpoint.strings:
        values = WRONG_FOR_STRING + NOT_FINITE + ([] if name in endpoint.nullable else ["null"])
    elif name in endpoint.booleans:
        values = WRONG_FOR_BOOLEAN + NOT_FINITE
    else:
        values = WRONG_FOR_LIST + NOT_FINITE
    for raw in values:
        response = caller.send_raw_value(endpoint, name, raw)
        assert response.status_code in (400, 422), (raw, response.get_data(as_text=True))
        assert_client_error(response, field=name)


@same_on_every_database
@pytest.mark.parametrize("endpoint, name", _cases("lists"))
def test_send_list_with_unknown_or_repeated_entries_returns_422(
    caller: Caller, endpoint: Endpoint, name: str
) -> None:
    for value in (["root"], ["users:read", "users:read"], ["USERS:READ"], [""], ["users:read "]):
        response = caller.send(endpoint, json_body=caller.body(endpoint, **{name: value}))
        assert_error(response, 422, field=name)


@same_on_every_database
@pytest.mark.parametrize("endpoint, name", _cases("required"))
def test_send_without_required_field_returns_422(
    caller: Caller, endpoint: Endpoint, name: str
) -> None:
    body = caller.body(endpoint)
    del body[name]
    assert_error(caller.send(endpoint, json_body=body), 422, field=name)


@same_on_every_database
@pytest.mark.parametrize(
    "endpoint, name",
    [
        pytest.param(e, n, id=f"{e.name}-{n}")
        for e in ENDPOINTS
        for n, limit in e.strings.items()
        if limit is not None
    ],
)
def test_send_overlong_string_returns_422(caller: Caller, endpoint: Endpoint, name: str) -> None:
    limit = endpoint.strings[name]
    assert limit is not None
    for value in ("x" * (limit + 1), "😀" * (limit + 1), "x" * 100_000):
        response = caller.send(endpoint, json_body=caller.body(endpoint, **{name: value}))
        assert_error(response, 422, field=name)


FORBIDDEN_CHARACTERS = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f"]
# Lone UTF-16 surrogates: valid JSON escapes, not characters any database can store.
LONE_SURROGATES = ["\\ud800", "\\udbff", "\\udc00", "\\udfff", "\\ude00\\ud83d"]


def _with_inserted(value: str, inserted: str) -> str:
    return value[:1] + inserted + value[1:]


@same_on_every_database
@pytest.mark.parametrize("endpoint, name", _cases("strings"))
def test_send_control_characters_returns_4xx_naming_field(
    caller: Caller, endpoint: Endpoint, name: str
) -> None:
    valid = caller.body(endpoint)[name]
    for char in FORBIDDEN_CHARACTERS:
        response = caller.send(
            endpoint, json_body=caller.body(endpoint, **{name: _with_inserted(valid, char)})
        )
        if endpoint.strict:
            assert_error(response, 422, field=name)
        else:
            assert_client_error(response)


@same_on_every_database
@pytest.mark.parametrize("endpoint, name", _cases("strings"))
def test_send_lone_surrogate_returns_4xx_naming_field(
    caller: Caller, endpoint: Endpoint, name: str
) -> None:
    valid = caller.body(endpoint)[name]
    for escape in LONE_SURROGATES:
        raw = json.dumps(valid)[:-1] + escape + '"'
        response = caller.send_raw_value(endpoint, name, raw)
        if endpoint.strict:
            assert_error(response, 422, field=name)
        else:
            assert_client_error(response)


# --- unicode that must be kept exactly -------------------------------------------------

UNICODE_SAMPLES = [
    "Zoë 😀 👩‍👩‍👧‍👦 🏳️‍🌈",  # emoji, including ZWJ sequences and variation selectors
    "שלום עולם مرحبا بالعالم",  # right to left
    "a\u202eRTL override\u202c z",  # bidi controls are format characters, not controls
    "e\u0301 n\u0303 a\u030a\u0323",  # combining marks, not composed (no normalisation)
    "日本語 한국어 中文 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 a\u200bb\u00a0c",  # noqa: RUF001 (astral letters are the point)
    "line one\nline two\ttabbed\r\nend",
]


@pytest.mark.parametrize("endpoint", _endpoints(lambda e: bool(e.echoed)))
def test_send_unicode_text_round_trips_exactly(caller: Caller, endpoint: Endpoint) -> None:
    for n, sample in enumerate(UNICODE_SAMPLES * 2):
        text = f"{n} {sample}"  # a new name each time: creating twice is a conflict
        changes = {name: text for name in endpoint.echoed}
        if "email" in endpoint.body:
            changes["email"] = f"unicode{n}@example.com"
        # Sent as UTF-8, then again as JSON escapes (surrogate pairs for astral characters).
        escaped = n >= len(UNICODE_SAMPLES)
        data = json.dumps(caller.body(endpoint, **changes), ensure_ascii=escaped).encode()
        response = caller.send(endpoint, data)
        assert response.status_code in (200, 201), (text, response.get_data(as_text=True))
        sent_back = response.get_json()
        stored = caller.read(endpoint, sent_back)
        for name in endpoint.echoed:
            assert (sent_back[name], stored[name]) == (text, text)


@pytest.mark.parametrize(
    "endpoint, name",
    [pytest.param(e, n, id=f"{e.name}-{n}") for e in ENDPOINTS for n in e.echoed],
)
def test_send_longest_text_of_four_byte_characters_round_trips(
    caller: Caller, endpoint: Endpoint, name: str
) -> None:
    limit = endpoint.strings[name]
    assert limit is not None
    text = "😀" * limit
    response = caller.send(endpoint, json_body=caller.body(endpoint, **{name: text}))
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    assert caller.read(endpoint, response.get_json())[name] == text


def test_create_groups_differing_only_in_emoji_keeps_both(caller: Caller) -> None:
    endpoint = next(e for e in ENDPOINTS if e.name == "create_group")
    for name in ("Team 😀", "Team 🎉"):
        response = caller.send(endpoint, json_body={"name": name})
        assert response.status_code == 201, response.get_data(as_text=True)
        assert caller.read(endpoint, response.get_json())["name"] == name


# --- query strings and paths -----------------------------------------------------------

LISTS = ["/users/", "/groups/", "/items/"]
BAD_PAGING = {
    "skip": ["-1", "abc", "1.5", "", " ", "1e3", "0x10", str(10**30), str(-(10**30))],
    "limit": ["0", "-1", "abc", "1.5", "", str(10**30), "NaN"],
}


@same_on_every_database
@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("param", sorted(BAD_PAGING))
def test_read_list_with_bad_paging_returns_400(
    client: FlaskClient, superuser_headers: dict[str, str], path: str, param: str
) -> None:
    for value in BAD_PAGING[param]:
        response = client.get(API + path, query_string={param: value}, headers=superuser_headers)
        assert_error(response, 400, field=param)


@pytest.mark.parametrize("path", LISTS)
def test_read_list_with_largest_paging_succeeds(
    client: FlaskClient, superuser_headers: dict[str, str], path: str
) -> None:
    response = client.get(
        API + path, query_string={"skip": 2**31 - 1, "limit": 10**6}, headers=superuser_headers
    )
    assert response.status_code == 200
    assert response.get_json()["data"] == []


@same_on_every_database
@pytest.mark.parametrize("text", ["\x00", "a\x00b", "\x1b[31m", "\x7f", "\x01"])
def test_read_users_with_control_characters_in_email_search_returns_400(
    client: FlaskClient, superuser_headers: dict[str, str], text: str
) -> None:
    response = client.get(API + "/users/", query_string={"email": text}, headers=superuser_headers)
    assert_error(response, 400, field="email")


@pytest.mark.parametrize(
    "text", ["😀", "\u202e", "\ufffd", "e\u0301", "x" * 5000, "' OR 1=1 --", "%", "_", "\\"]
)
def test_read_users_with_odd_email_search_finds_nothing(
    client: FlaskClient, superuser_headers: dict[str, str], text: str
) -> None:
    response = client.get(API + "/users/", query_string={"email": text}, headers=superuser_headers)
    assert response.status_code == 200
    assert response.get_json() == {"data": [], "count": 0}


def test_read_users_with_invalid_utf8_in_query_answers_without_error(
    client: FlaskClient, superuser_headers: dict[str, str]
) -> None:
    response = client.get(API + "/users/?email=%ED%A0%80%FF&skip=%C0%AF", headers=superuser_headers)
    assert_client_error(response)


HUGE_IDS = ["0", str(2**31), str(2**63), str(2**64), "99999999999999999999", "9" * 200]
ID_ROUTES = [
    ("get", "/users/{id}"),
    ("patch", "/users/{id}"),
    ("delete", "/users/{id}"),
    ("get", "/groups/{id}"),
    ("patch", "/groups/{id}"),
    ("delete", "/groups/{id}"),
    ("put", "/groups/{id}/members/{user_id}"),
    ("delete", "/groups/{id}/members/{user_id}"),
    ("put", "/groups/{group_id}/members/{id}"),
    ("delete", "/groups/{group_id}/members/{id}"),
    ("get", "/items/{id}"),
    ("patch", "/items/{id}"),
    ("delete", "/items/{id}"),
]
PATCH_BODIES = {"users": {"full_name": "x"}, "groups": {"name": "x"}, "items": {"title": "x"}}


@pytest.mark.parametrize("method, route", ID_ROUTES)
def test_request_with_huge_or_zero_id_returns_404(caller: Caller, method: str, route: str) -> None:
    body = PATCH_BODIES[route.split("/")[1]] if method == "patch" else None
    for value in HUGE_IDS:
        path = API + route.format_map(caller.context | {"id": value})
        response = caller.client.open(path, method=method, json=body, headers=caller.headers)
        assert_error(response, 404)


@pytest.mark.parametrize(
    "path", ["/items/-1", "/items/1.5", "/items/1e3", "/users/%00", "/groups/😀"]
)
def test_request_with_malformed_id_returns_404(
    client: FlaskClient, superuser_headers: dict[str, str], path: str
) -> None:
    assert_error(client.get(API + path, headers=superuser_headers), 404)


@pytest.mark.parametrize(
    "email", ["%00", "a%00b@example.com", "%1B", "%ED%A0%80", "x" * 3000, "😀@example.com", "%20"]
)
def test_recover_password_with_odd_email_gives_usual_answer(
    client: FlaskClient, email: str
) -> None:
    response = client.post(f"{API}/password-recovery/{email}")
    assert response.status_code == 200
    assert isinstance(response.get_json()["message"], str)
