"""The request's session: transactional by default, AUTOCOMMIT for requests that
only read and under @autocommit."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Job, User
from app.runtime import Runtime
from app.services import jobs
from app.web.db import autocommit, session


def jobs_seen_elsewhere(runtime: Runtime) -> int:
    with runtime.session_factory() as other:
        return other.scalar(select(func.count()).select_from(Job)) or 0


def create_and_count(runtime: Runtime, user: User) -> int:
    jobs.create_job(session=session(), owner=user, kind="demo")
    return jobs_seen_elsewhere(runtime)


def test_autocommit_handler_writes_are_committed_as_they_run(
    app: Flask, runtime: Runtime, db: Session, user: User
) -> None:
    with app.test_request_context(method="POST"):
        assert autocommit(create_and_count)(runtime, user) == 1


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_handler_writes_wait_for_commit_by_default(
    app: Flask, runtime: Runtime, db: Session, user: User, method: str
) -> None:
    with app.test_request_context(method=method):
        assert create_and_count(runtime, user) == 0
    # Never committed: rolled back when the request ended.
    assert jobs_seen_elsewhere(runtime) == 0


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_requests_that_only_read_run_each_statement_on_its_own(
    app: Flask, runtime: Runtime, db: Session, user: User, method: str
) -> None:
    with app.test_request_context(method=method):
        assert create_and_count(runtime, user) == 1


def test_autocommit_refuses_a_session_opened_before_the_handler(
    app: Flask, runtime: Runtime, db: Session, user: User
) -> None:
    with app.test_request_context(method="POST"):
        session()
        with pytest.raises(RuntimeError, match="opened before the handler"):
            autocommit(create_and_count)(runtime, user)
    assert jobs_seen_elsewhere(runtime) == 0
