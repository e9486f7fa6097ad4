"""The request's session: transactional by default; without a transaction, and
refusing writes, for requests that only read; opted into for a handler that writes
with @transactional or @autocommit."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.session import ReadOnlySessionError
from app.kinds.default import DEMO
from app.models import Job, User
from app.runtime import Runtime
from app.services import jobs
from app.web.db import autocommit, session, transactional


def jobs_seen_elsewhere(runtime: Runtime) -> int:
    with runtime.session_factory() as other:
        return other.scalar(select(func.count()).select_from(Job)) or 0


def create_and_count(runtime: Runtime, owner: User) -> int:
    jobs.create_job(session=session(), owner=owner, kind=DEMO)
    return jobs_seen_elsewhere(runtime)


def test_autocommit_handler_writes_are_committed_as_they_run(
    app: Flask, runtime: Runtime, db: Session, superuser: User
) -> None:
    with app.test_request_context(method="POST"):
        assert autocommit(create_and_count)(runtime, superuser) == 1


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_handler_writes_wait_for_commit_by_default(
    app: Flask, runtime: Runtime, db: Session, superuser: User, method: str
) -> None:
    with app.test_request_context(method=method):
        assert create_and_count(runtime, superuser) == 0
    # Never committed: rolled back when the request ended.
    assert jobs_seen_elsewhere(runtime) == 0


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_requests_that_only_read_cannot_write_unless_their_handler_says_so(
    app: Flask, runtime: Runtime, db: Session, superuser: User, method: str
) -> None:
    with app.test_request_context(method=method):
        # A statement (the job's INSERT) and the ORM's unit of work alike.
        with pytest.raises(ReadOnlySessionError):
            create_and_count(runtime, superuser)
        session().add(Job(kind="demo", params={}, owner_id=superuser.id))
        with pytest.raises(ReadOnlySessionError):
            session().commit()
    assert jobs_seen_elsewhere(runtime) == 0
    with app.test_request_context(method=method):
        assert transactional(create_and_count)(runtime, superuser) == 0  # until it commits
    with app.test_request_context(method=method):
        assert autocommit(create_and_count)(runtime, superuser) == 1


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_requests_that_only_read_run_without_a_transaction(
    app: Flask, runtime: Runtime, db: Session, superuser: User, method: str
) -> None:
    with app.test_request_context(method=method):
        assert session().scalar(select(func.count()).select_from(User)) == 1
        # Each statement commits on its own: no BEGIN and ROLLBACK round trips.
        options = session().get_bind().get_execution_options()
        assert options["isolation_level"] == "AUTOCOMMIT"


def test_autocommit_refuses_a_session_opened_before_the_handler(
    app: Flask, runtime: Runtime, db: Session, superuser: User
) -> None:
    with app.test_request_context(method="POST"):
        session()
        with pytest.raises(RuntimeError, match="opened before the handler"):
            autocommit(create_and_count)(runtime, superuser)
    assert jobs_seen_elsewhere(runtime) == 0
