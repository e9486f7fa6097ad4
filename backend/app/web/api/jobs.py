"""Jobs: start background work on the worker and follow it."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource, fields
from sqlalchemy import Row

from app.models import Job
from app.queue import RUN_JOB
from app.services import jobs
from app.services.errors import PermissionDenied, Unavailable
from app.web.auth import current_user
from app.web.db import autocommit, runtime, session

from .schema import (
    checked_id,
    errors,
    isoformat,
    nullable,
    page_args,
    page_model,
    pagination_parser,
    parse_body,
    register_common_models,
)

ns = Namespace("jobs", description="Background jobs run by the worker")
register_common_models(ns)

job_model = ns.model(
    "Job",
    {
        "id": fields.Integer(required=True),
        "kind": fields.String(required=True, example="demo"),
        "state": fields.String(required=True, enum=["queued", "running", "succeeded", "failed"]),
        "progress": fields.Integer(required=True, min=0, max=100),
        "result": nullable(fields.Raw(required=True, description="The job's output (JSON)")),
        "error": nullable(fields.String(required=True)),
        "owner_id": fields.Integer(required=True),
        "created_at": fields.DateTime(required=True),
        "started_at": nullable(fields.DateTime(required=True)),
        "finished_at": nullable(fields.DateTime(required=True)),
    },
)
jobs_page_model = page_model(ns, "JobsPage", job_model)
demo_params_model = ns.model(
    "DemoJobParams",
    {
        "seconds": fields.Float(min=0, max=jobs.DEMO_MAX_SECONDS, default=0),
        "fail": fields.Boolean(default=False),
    },
    strict=True,
)
job_create_model = ns.model(
    "JobCreate",
    {
        "kind": fields.String(required=True, enum=sorted(jobs.KINDS)),
        "params": fields.Nested(demo_params_model),
    },
    strict=True,
)
list_parser = pagination_parser()


def serialize_job(job: Job | Row[Any]) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "progress": job.progress,
        "result": job.result,
        "error": job.error,
        "owner_id": job.owner_id,
        "created_at": isoformat(job.created_at),
        "started_at": isoformat(job.started_at),
        "finished_at": isoformat(job.finished_at),
    }


@ns.route("/")
class JobList(Resource):
    @ns.doc("readJobs")
    @ns.expect(list_parser)
    @ns.response(200, "A page of jobs, newest first", jobs_page_model)
    @errors(ns, 400, 401, 403)
    def get(self) -> dict[str, Any]:
        """List your jobs (everyone's for a superuser)."""
        user = current_user()
        args = page_args(list_parser)
        found, count = jobs.list_jobs(
            session=session(), viewer=user, skip=args["skip"], limit=args["limit"]
        )
        return {"data": [serialize_job(job) for job in found], "count": count}

    @ns.doc("createJob")
    @ns.expect(job_create_model)
    @ns.response(202, "Queued", job_model)
    @errors(ns, 400, 401, 403, 413, 415, 422, 503)
    # Its writes are single statements: the INSERT is committed when it returns,
    # before the task is enqueued, so the worker finds the row.
    @autocommit
    def post(self) -> tuple[dict[str, Any], int]:
        """Start a job (jobs:run); follow it with readJob."""
        user = current_user()
        if not jobs.can_run_jobs(user):
            raise PermissionDenied("Not enough permissions")
        body = parse_body(job_create_model)
        job = jobs.create_job(
            session=session(), owner=user, kind=body["kind"], params=body.get("params")
        )
        try:
            runtime().queue.enqueue(RUN_JOB, job.id)
        except Unavailable:
            error = "The job queue was unavailable"
            jobs.fail_unqueued(session=session(), job_id=job.id, error=error)
            raise
        return serialize_job(job), 202


@ns.route("/<int:job_id>")
@ns.param("job_id", "The job's id")
class JobById(Resource):
    @ns.doc("readJob")
    @ns.response(200, "The job", job_model)
    @errors(ns, 401, 403, 404)
    def get(self, job_id: int) -> dict[str, Any]:
        """Read a job: yours, or any for a superuser."""
        user = current_user()
        return serialize_job(
            jobs.get_job(session=session(), viewer=user, job_id=checked_id(job_id))
        )
