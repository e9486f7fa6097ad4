"""Jobs as the API sees them: who may start one, what it accepts, who sees which.

The suite's broker is in memory, so jobs stay queued: the worker's own tests
(tests/worker/process) run them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Job, User
from app.runtime import Runtime
from tests.utils.assertions import assert_client_error, assert_error
from tests.utils.factories import auth_headers, make_group, make_user

JOBS = "/api/v1/jobs/"
JOB_FIELDS = {
    "id",
    "kind",
    "state",
    "progress",
    "result",
    "error",
    "owner_id",
    "created_at",
    "started_at",
    "finished_at",
}


@pytest.fixture
def runner(db: Session, runtime: Runtime) -> User:
    return make_user(db, runtime, email="runner@example.com", permissions=["jobs:run"])


@pytest.fixture
def runner_headers(runtime: Runtime, runner: User) -> dict[str, str]:
    return auth_headers(runtime, runner)


def create(client: FlaskClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.post(JOBS, json={"kind": "demo", "params": params}, headers=headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def job_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Job)) or 0


# --- POST /jobs/ ----------------------------------------------------------------------


def test_create_job_with_jobs_run_returns_it_queued(
    client: FlaskClient, runner: User, runner_headers: dict[str, str]
) -> None:
    response = client.post(
        JOBS,
        json={"kind": "demo", "params": {"seconds": 2.5, "fail": False}},
        headers=runner_headers,
    )
    assert response.status_code == 202
    body = response.get_json()
    assert set(body) == JOB_FIELDS
    assert isinstance(body["id"], int)
    assert body["kind"] == "demo"
    assert body["state"] == "queued"
    assert body["progress"] == 0
    assert body["result"] is None
    assert body["error"] is None
    assert body["owner_id"] == runner.id
    assert isinstance(datetime.fromisoformat(body["created_at"]), datetime)
    assert body["started_at"] is None
    assert body["finished_at"] is None
    # What was accepted is what the API shows afterwards.
    assert client.get(f"{JOBS}{body['id']}", headers=runner_headers).get_json() == body


def test_create_job_keeps_its_request_id_with_the_row_but_does_not_show_it(
    client: FlaskClient, db: Session, runner_headers: dict[str, str]
) -> None:
    headers = runner_headers | {"X-Request-ID": "edge-job-0007"}
    body = create(client, headers)
    assert set(body) == JOB_FIELDS
    assert db.scalar(select(Job.request_id).where(Job.id == body["id"])) == "edge-job-0007"
    generated = create(client, runner_headers)
    # A new transaction, to see the row (MariaDB's reads repeat the first one's snapshot).
    db.rollback()
    stored = db.scalar(select(Job.request_id).where(Job.id == generated["id"]))
    assert stored is not None and stored != "edge-job-0007"


def test_create_job_without_params_is_accepted(
    client: FlaskClient, runner_headers: dict[str, str]
) -> None:
    response = client.post(JOBS, json={"kind": "demo"}, headers=runner_headers)
    assert response.status_code == 202
    assert response.get_json()["state"] == "queued"


def test_create_job_as_superuser_is_accepted(
    client: FlaskClient, superuser: User, superuser_headers: dict[str, str]
) -> None:
    body = create(client, superuser_headers)
    assert body["owner_id"] == superuser.id


def test_create_job_with_permission_through_shared_group_is_accepted(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    member = make_user(db, runtime)
    make_group(db, permissions=["jobs:run"], members=[member])
    create(client, auth_headers(runtime, member))


def test_create_job_without_jobs_run_returns_403(
    client: FlaskClient, db: Session, user_headers: dict[str, str]
) -> None:
    response = client.post(JOBS, json={"kind": "demo"}, headers=user_headers)
    assert_error(response, 403)
    assert job_count(db) == 0


def test_create_job_with_other_permissions_only_returns_403(
    client: FlaskClient, db: Session, runtime: Runtime
) -> None:
    reader = make_user(db, runtime, permissions=["items:read_all", "users:read"])
    response = client.post(JOBS, json={"kind": "demo"}, headers=auth_headers(runtime, reader))
    assert_error(response, 403)


def test_create_job_without_token_returns_401(client: FlaskClient, db: Session) -> None:
    response = client.post(JOBS, json={"kind": "demo"})
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert job_count(db) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "unknown"}, "kind"),
        ({"kind": ""}, "kind"),
        ({"kind": 1}, "kind"),
        ({"kind": None}, "kind"),
        ({}, "kind"),
        ({"params": {"seconds": 1}}, "kind"),
        ({"kind": "demo", "params": {"seconds": -1}}, "params"),
        ({"kind": "demo", "params": {"seconds": -0.001}}, "params"),
        ({"kind": "demo", "params": {"seconds": 60.5}}, "params"),
        ({"kind": "demo", "params": {"seconds": 61}}, "params"),
        ({"kind": "demo", "params": {"seconds": 10**400}}, None),
        ({"kind": "demo", "params": {"seconds": "5"}}, "params"),
        ({"kind": "demo", "params": {"seconds": True}}, "params"),
        ({"kind": "demo", "params": {"seconds": None}}, "params"),
        ({"kind": "demo", "params": {"seconds": [1]}}, "params"),
        ({"kind": "demo", "params": {"fail": "yes"}}, "params"),
        ({"kind": "demo", "params": {"fail": 1}}, "params"),
        ({"kind": "demo", "params": {"retries": 3}}, "params"),
        ({"kind": "demo", "params": [1, 2]}, "params"),
        ({"kind": "demo", "params": "seconds=1"}, "params"),
        ({"kind": "demo", "owner_id": 1}, None),
    ],
    ids=[
        "unknown kind",
        "empty kind",
        "number kind",
        "null kind",
        "empty body",
        "no kind",
        "negative seconds",
        "barely negative seconds",
        "barely too many seconds",
        "too many seconds",
        "astronomic seconds",
        "string seconds",
        "boolean seconds",
        "null seconds",
        "list seconds",
        "string fail",
        "number fail",
        "unknown param",
        "list params",
        "string params",
        "unknown field",
    ],
)
def test_create_job_with_invalid_body_is_rejected(
    client: FlaskClient,
    db: Session,
    runner_headers: dict[str, str],
    body: dict[str, Any],
    field: str | None,
) -> None:
    response = client.post(JOBS, json=body, headers=runner_headers)
    assert_client_error(response, field=field)
    assert job_count(db) == 0


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("{not json", "application/json"),
        ("[]", "application/json"),
        ('"demo"', "application/json"),
        ("kind=demo", "application/x-www-form-urlencoded"),
    ],
    ids=["malformed", "list", "string", "form"],
)
def test_create_job_with_non_object_body_is_rejected(
    client: FlaskClient, db: Session, runner_headers: dict[str, str], data: str, content_type: str
) -> None:
    response = client.post(JOBS, data=data, content_type=content_type, headers=runner_headers)
    assert_client_error(response)
    assert job_count(db) == 0


@pytest.mark.parametrize("seconds", [0, 0.5, 60])
def test_create_job_with_seconds_at_bounds_is_accepted(
    client: FlaskClient, runner_headers: dict[str, str], seconds: float
) -> None:
    create(client, runner_headers, seconds=seconds, fail=True)


# --- GET /jobs/ -----------------------------------------------------------------------


def test_read_jobs_lists_only_callers_own(
    client: FlaskClient, db: Session, runtime: Runtime, runner: User, runner_headers: dict[str, str]
) -> None:
    other = make_user(db, runtime, permissions=["jobs:run"])
    other_headers = auth_headers(runtime, other)
    mine = [create(client, runner_headers)["id"] for _ in range(2)]
    theirs = create(client, other_headers)["id"]

    body = client.get(JOBS, headers=runner_headers).get_json()
    assert sorted(job["id"] for job in body["data"]) == sorted(mine)
    assert {job["owner_id"] for job in body["data"]} == {runner.id}
    assert body["count"] == 2
    assert [job["id"] for job in client.get(JOBS, headers=other_headers).get_json()["data"]] == [
        theirs
    ]


def test_read_jobs_as_superuser_lists_everyones(
    client: FlaskClient,
    db: Session,
    runtime: Runtime,
    runner_headers: dict[str, str],
    superuser_headers: dict[str, str],
) -> None:
    other = make_user(db, runtime, permissions=["jobs:run"])
    created = [
        create(client, runner_headers)["id"],
        create(client, auth_headers(runtime, other))["id"],
    ]
    body = client.get(JOBS, headers=superuser_headers).get_json()
    assert sorted(job["id"] for job in body["data"]) == sorted(created)
    assert body["count"] == 2


def test_read_jobs_by_user_without_jobs_returns_empty_page(
    client: FlaskClient, db: Session, runtime: Runtime, runner: User, runner_headers: dict[str, str]
) -> None:
    """Listing needs no permission; someone else's jobs are not shown."""
    create(client, runner_headers)
    plain = make_user(db, runtime)
    body = client.get(JOBS, headers=auth_headers(runtime, plain)).get_json()
    assert body == {"data": [], "count": 0}


def test_read_jobs_lists_newest_first_in_pages(
    client: FlaskClient, runner_headers: dict[str, str]
) -> None:
    created = [create(client, runner_headers, seconds=n)["id"] for n in range(5)]
    newest_first = list(reversed(created))

    body = client.get(JOBS, headers=runner_headers).get_json()
    assert [job["id"] for job in body["data"]] == newest_first
    stamps = [datetime.fromisoformat(job["created_at"]) for job in body["data"]]
    assert stamps == sorted(stamps, reverse=True)

    page = client.get(JOBS, query_string={"skip": 1, "limit": 2}, headers=runner_headers)
    assert [job["id"] for job in page.get_json()["data"]] == newest_first[1:3]
    assert page.get_json()["count"] == 5
    beyond = client.get(JOBS, query_string={"skip": 5}, headers=runner_headers).get_json()
    assert beyond == {"data": [], "count": 5}


@pytest.mark.parametrize(
    "query",
    [{"skip": -1}, {"limit": 0}, {"limit": -5}, {"skip": "abc"}, {"limit": "1.5"}],
    ids=["negative skip", "zero limit", "negative limit", "text skip", "fraction limit"],
)
def test_read_jobs_with_bad_pagination_is_rejected(
    client: FlaskClient, runner_headers: dict[str, str], query: dict[str, object]
) -> None:
    response = client.get(JOBS, query_string=query, headers=runner_headers)
    assert_client_error(response, field=next(iter(query)))


def test_read_jobs_without_token_returns_401(client: FlaskClient) -> None:
    assert_error(client.get(JOBS), 401)


# --- GET /jobs/{id} -------------------------------------------------------------------


def test_read_job_own_returns_it(client: FlaskClient, runner_headers: dict[str, str]) -> None:
    created = create(client, runner_headers, seconds=3)
    response = client.get(f"{JOBS}{created['id']}", headers=runner_headers)
    assert response.status_code == 200
    assert response.get_json() == created


def test_read_job_of_someone_else_returns_404(
    client: FlaskClient, runner_headers: dict[str, str], db: Session, runtime: Runtime
) -> None:
    created = create(client, runner_headers)
    # Another user who may run jobs still sees only their own.
    other = make_user(db, runtime, permissions=["jobs:run"])
    response = client.get(f"{JOBS}{created['id']}", headers=auth_headers(runtime, other))
    assert_error(response, 404)


def test_read_job_of_someone_else_as_superuser_returns_it(
    client: FlaskClient, runner_headers: dict[str, str], superuser_headers: dict[str, str]
) -> None:
    created = create(client, runner_headers)
    response = client.get(f"{JOBS}{created['id']}", headers=superuser_headers)
    assert response.status_code == 200
    assert response.get_json() == created


@pytest.mark.parametrize("job_id", ["999999", "0", "2147483648", str(2**63), "9" * 40])
def test_read_job_missing_returns_404(
    client: FlaskClient, runner_headers: dict[str, str], job_id: str
) -> None:
    assert_error(client.get(f"{JOBS}{job_id}", headers=runner_headers), 404)


@pytest.mark.parametrize("job_id", ["-1", "abc", "1.5"])
def test_read_job_with_malformed_id_returns_404(
    client: FlaskClient, runner_headers: dict[str, str], job_id: str
) -> None:
    assert_error(client.get(f"{JOBS}{job_id}", headers=runner_headers), 404)


def test_read_job_without_token_returns_401(
    client: FlaskClient, runner_headers: dict[str, str]
) -> None:
    created = create(client, runner_headers)
    assert_error(client.get(f"{JOBS}{created['id']}"), 401)


# --- kinds ---------------------------------------------------------------------
ML = {"kind": "ml.train_classifier", "params": {"dataset": "iris", "model": "random_forest"}}


def test_read_job_kinds_lists_each_with_its_params_schema(
    client: FlaskClient, runner_headers: dict[str, str]
) -> None:
    response = client.get(f"{JOBS}kinds", headers=runner_headers)
    assert response.status_code == 200
    kinds = {kind["name"]: kind for kind in response.get_json()["data"]}
    assert {"demo", "ml.train_classifier"} <= set(kinds)
    demo, ml = kinds["demo"], kinds["ml.train_classifier"]
    assert set(demo) == {
        "name", "title", "description", "queue", "permission", "allowed", "params_schema"
    }  # fmt: skip
    assert (demo["queue"], ml["queue"]) == ("jobs", "ml")
    assert demo["permission"] == ml["permission"] == "jobs:run"
    assert demo["allowed"] and ml["allowed"]
    properties = ml["params_schema"]["properties"]
    assert properties["dataset"]["enum"] == ["iris", "wine", "breast_cancer", "digits"]
    assert (properties["test_size"]["minimum"], properties["test_size"]["maximum"]) == (0.1, 0.5)
    assert set(ml["params_schema"]["required"]) == {"dataset", "model"}
    assert demo["params_schema"]["properties"]["seconds"]["maximum"] == 60


def test_read_job_kinds_says_which_the_caller_may_not_run(
    client: FlaskClient, user_headers: dict[str, str]
) -> None:
    kinds = client.get(f"{JOBS}kinds", headers=user_headers).get_json()["data"]
    assert kinds and not any(kind["allowed"] for kind in kinds)


def test_create_ml_job_is_queued_with_its_params_and_defaults(
    client: FlaskClient, runner_headers: dict[str, str]
) -> None:
    response = client.post(JOBS, json=ML, headers=runner_headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.get_json()["kind"] == "ml.train_classifier"
    assert response.get_json()["state"] == "queued"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"dataset": "mnist", "model": "random_forest"}, "params.dataset"),
        ({"dataset": "iris", "model": "svm"}, "params.model"),
        ({"dataset": "iris", "model": "random_forest", "test_size": 0.9}, "params.test_size"),
        ({"dataset": "iris", "model": "random_forest", "random_state": -1}, "params.random_state"),
        ({"dataset": "iris"}, "params.model"),
        ({"dataset": "iris", "model": "random_forest", "seconds": 1}, "params.seconds"),
    ],
)
def test_create_ml_job_with_bad_params_names_the_field(
    client: FlaskClient, runner_headers: dict[str, str], params: dict[str, Any], field: str
) -> None:
    response = client.post(
        JOBS, json={"kind": ML["kind"], "params": params}, headers=runner_headers
    )
    assert_error(response, 422, field=field)


@pytest.mark.parametrize("body", [{"kind": "nope"}, {"params": {}}, {"kind": None}])
def test_create_job_with_unknown_or_missing_kind_names_kind(
    client: FlaskClient, runner_headers: dict[str, str], body: dict[str, Any]
) -> None:
    assert_error(client.post(JOBS, json=body, headers=runner_headers), 422, field="kind")


# --- cancel --------------------------------------------------------------------


def cancel(client: FlaskClient, headers: dict[str, str], job_id: int) -> Any:
    return client.post(f"{JOBS}{job_id}/cancel", headers=headers)


def test_cancel_queued_job_cancels_it_at_once(
    client: FlaskClient, runner_headers: dict[str, str]
) -> None:
    job = create(client, runner_headers, seconds=5)
    response = cancel(client, runner_headers, job["id"])
    assert response.status_code == 202
    body = response.get_json()
    assert (body["state"], body["id"]) == ("cancelled", job["id"])
    assert body["finished_at"] is not None
    assert client.get(f"{JOBS}{job['id']}", headers=runner_headers).get_json() == body


def test_cancel_finished_job_returns_409(
    client: FlaskClient, db: Session, runner: User, runner_headers: dict[str, str]
) -> None:
    job = create(client, runner_headers)
    assert cancel(client, runner_headers, job["id"]).status_code == 202
    assert_error(cancel(client, runner_headers, job["id"]), 409)
    row = db.get(Job, job["id"])
    assert row is not None
    row.state = "succeeded"
    db.commit()
    assert_error(cancel(client, runner_headers, job["id"]), 409)


def test_cancel_someone_elses_job_returns_404_but_superuser_may(
    client: FlaskClient,
    db: Session,
    runtime: Runtime,
    runner_headers: dict[str, str],
    superuser_headers: dict[str, str],
) -> None:
    job = create(client, runner_headers)
    other = auth_headers(runtime, make_user(db, runtime, permissions=["jobs:run"]))
    assert_error(cancel(client, other, job["id"]), 404)
    assert cancel(client, superuser_headers, job["id"]).get_json()["state"] == "cancelled"


def test_cancel_missing_job_returns_404_and_needs_a_login(
    client: FlaskClient, runner_headers: dict[str, str]
) -> None:
    assert_error(cancel(client, runner_headers, 999_999), 404)
    assert_error(client.post(f"{JOBS}1/cancel"), 401)


def test_read_job_kinds_tells_a_superuser_when_no_worker_runs_them(
    client: FlaskClient, superuser_headers: dict[str, str], runner_headers: dict[str, str]
) -> None:
    # The suite's broker is in memory: no worker consumes any queue.
    kinds = client.get(f"{JOBS}kinds", headers=superuser_headers).get_json()["data"]
    assert kinds and all(kind["worker_running"] is False for kind in kinds)
    # Others are not told (nor made to wait while the workers are asked).
    kinds = client.get(f"{JOBS}kinds", headers=runner_headers).get_json()["data"]
    assert not any("worker_running" in kind for kind in kinds)


def test_create_job_out_of_bounds_says_the_bound_as_written(
    client: FlaskClient, runner_headers: dict[str, str]
) -> None:
    response = client.post(
        JOBS, json={"kind": "demo", "params": {"seconds": 61}}, headers=runner_headers
    )
    assert assert_error(response, 422)["errors"] == {"params.seconds": "Must be at most 60"}
