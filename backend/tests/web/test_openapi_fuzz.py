"""Property-based run of the whole published API (/api/v1/openapi.json, OpenAPI 3.1).

Schemathesis generates valid and invalid requests for every operation and applies
every check it has: never a server error, a status code, headers, media type and
body as documented, invalid input rejected and valid input accepted (the spec says
what the server enforces), methods and auth as documented. Every operation runs as
a superuser and as a plain user, against seeded rows so that lookups by id and
email hit real rows too.

Runs are reproducible: fixed seeds, no example database. On a failure Hypothesis
prints the smallest request it found and a curl line to replay it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.orm import Session

from app.core.passwords import TOO_COMMON
from app.models import Job, User
from app.runtime import Runtime
from app.services import personal_tokens
from app.web import create_app
from tests.conftest import make_settings
from tests.utils.databases import empty_tables
from tests.utils.factories import make_group, make_item, make_user

SPEC_PATH = "/api/v1/openapi.json"
# Examples per operation, role and backend; the servers cost a round trip per query.
# `make test-fuzz` runs FUZZ_EXAMPLES of them everywhere (150), and more scenarios.
MAX_EXAMPLES = {"sqlite": 40, "postgresql": 25, "mariadb": 25}
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0"))
SCENARIOS = FUZZ_EXAMPLES or 30
CONFIG = {"seed": 20261125, "generation": {"deterministic": True}}


# Every check schemathesis has.
CHECKS = REGISTERED_CHECKS.get_all()
# Operations that refuse a well-formed request for what no schema can say: a reset
# or verification token that was never issued, a current password that is not the user's (and a
# new email needs it), a two-factor code or an enrollment not started. Their 400 is
# the documented answer; every other check holds.
SECRET_DEPENDENT = {
    "resetPassword",
    "verifyEmail",
    "updatePasswordMe",
    "updateUserMe",
    "startTotpEnrollment",
    "confirmTotpEnrollment",
    "disableTotp",
}


def positive_data_accepted_unless_common_password(
    ctx: Any, response: Any, case: schemathesis.Case
) -> bool | None:
    """positive_data_acceptance, but for one refusal no schema can express: a
    generated password that is on the list of common ones ("00000000")."""
    if response.status_code == 422:
        errors = (response.json() or {}).get("errors") or {}
        if errors and set(errors.values()) == {TOO_COMMON}:
            return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    positive_data_accepted_unless_common_password if check is positive_data_acceptance else check
    for check in CHECKS
]


@cache
def operation_ids() -> list[str]:
    """Every operation in the spec; the spec doesn't depend on the database."""
    app = create_app(settings=make_settings("sqlite://"))
    spec = app.test_client().get(SPEC_PATH).get_json()
    return [
        operation["operationId"]
        for methods in spec["paths"].values()
        for operation in methods.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]


@dataclass
class Actor:
    """Who calls the API. The token is minted afresh for every request, so calls that
    end sessions (a password change) or delete the account don't end the run."""

    runtime: Runtime
    user_id: int
    # Path parameter name -> values naming seeded rows.
    existing: dict[str, list[Any]]

    def headers(self) -> dict[str, str]:
        with self.runtime.session_factory() as session:
            user = session.get(User, self.user_id)
            if user is None:  # deleted their own account: carry on as a new one
                user = make_user(session, self.runtime)
                self.user_id = user.id
            token = self.runtime.tokens.create_access_token(
                user_id=user.id, stamp=user.security_stamp
            )
        return {"Authorization": f"Bearer {token}"}


def _seed(db: Session, runtime: Runtime) -> tuple[dict[str, User], dict[str, list[Any]]]:
    people = {
        "superuser": make_user(db, runtime, email="admin@example.com", is_superuser=True),
        "user": make_user(db, runtime, email="plain@example.com"),
        "reader": make_user(db, runtime, email="reader@example.com", permissions=["users:read"]),
    }
    items = [make_item(db, owner, title=f"Item of {owner.email}") for owner in people.values()]
    groups = [
        make_group(db, name="editors", permissions=["items:read_all"], members=[people["user"]]),
        make_group(db, name="empty"),
    ]
    jobs = [
        Job(kind="demo", params={"seconds": 0, "fail": False}, owner_id=u.id)
        for u in people.values()
    ]
    db.add_all(jobs)
    db.commit()
    tokens = [
        personal_tokens.create_token(
            session=db,
            codec=runtime.personal_tokens,
            user=user,
            name=f"Token of {user.email}",
            permissions=[],
            expires_in_days=1,
        ).record
        for user in people.values()
    ]
    db.commit()
    existing = {
        "job_id": [job.id for job in jobs],
        "user_id": [user.id for user in people.values()],
        "item_id": [item.id for item in items],
        "group_id": [group.id for group in groups],
        "email": [user.email for user in people.values()],
        "token_id": [token.id for token in tokens],
        # The suite's app has no single sign-on provider: every name is unknown.
        "name": ["corp"],
    }
    return people, existing


def _empty(db: Session) -> None:
    empty_tables(db)


def _cases(operation: Any, existing: dict[str, list[Any]]) -> st.SearchStrategy[Any]:
    """Valid and invalid requests; some valid ones name seeded rows in their path."""
    valid = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    invalid = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    names = [parameter.name for parameter in operation.path_parameters]
    if not names:
        return st.one_of(valid, invalid)
    rows = st.fixed_dictionaries({name: st.sampled_from(existing[name]) for name in names})
    on_rows = rows.flatmap(
        lambda params: operation.as_strategy(
            generation_mode=GenerationMode.POSITIVE, path_parameters=params
        )
    )
    return st.one_of(on_rows, valid, invalid)


@pytest.fixture(scope="session")
def api_schema(app: Flask) -> Any:
    return schemathesis.openapi.from_wsgi(
        SPEC_PATH, app, config=schemathesis.Config.from_dict(CONFIG)
    )


@pytest.fixture(params=["superuser", "user"])
def actor(request: pytest.FixtureRequest, db: Session, runtime: Runtime) -> Actor:
    people, existing = _seed(db, runtime)
    return Actor(runtime=runtime, user_id=people[request.param].id, existing=existing)


@pytest.mark.parametrize("operation_id", operation_ids())
def test_call_operation_conforms_to_spec(
    api_schema: Any, operation_id: str, actor: Actor, runtime: Runtime
) -> None:
    operation = api_schema.find_operation_by_id(operation_id)

    @settings(
        max_examples=FUZZ_EXAMPLES or MAX_EXAMPLES[runtime.engine.dialect.name],
        deadline=None,
        derandomize=True,
        database=None,
        # Generating bodies takes longer on a busy machine; that's no reason to fail.
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(case=_cases(operation, actor.existing))
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=actor.headers(), checks=checks_for(operation_id))

    call()


def checks_for(operation_id: str) -> list[Any]:
    if operation_id in SECRET_DEPENDENT:
        return [
            check for check in CHECKS if check is not positive_data_accepted_unless_common_password
        ]
    return CHECKS


@pytest.mark.parametrize("role", ["superuser", "user"])
def test_call_sequences_following_links_conform_to_spec(
    api_schema: Any, role: str, db: Session, runtime: Runtime
) -> None:
    """Sequences of calls along the document's links (create an item, then read,
    change or delete it by the id in the answer), every check after every call.
    Each sequence starts from the same seeded rows, so that a failing one replays."""
    actor = Actor(runtime=runtime, user_id=0, existing={})

    class Scenario(api_schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            _empty(db)
            people, actor.existing = _seed(db, runtime)
            actor.user_id = people[role].id

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": actor.headers()}

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            checks = checks_for(case.operation.definition.raw["operationId"])
            case.validate_response(response, checks=checks, transport_kwargs=kwargs)

    Scenario.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
    )
