"""Jobs: start background work on the worker and follow it."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource

from app.queue import RUN_JOB
from app.schemas.jobs import JobCreate, JobPublic, JobsPage
from app.services import jobs
from app.services.errors import PermissionDenied, Unavailable
from app.web.auth import current_user
from app.web.db import autocommit, runtime, session

from .schema import checked_id, errors, page_args, pagination_parser, register_common_models
from .shapes import answer, document, read_body

ns = Namespace("jobs", description="Background jobs run by the worker")
register_common_models(ns)

job_model = document(ns, JobPublic)
jobs_page_model = document(ns, JobsPage)
job_create_model = document(ns, JobCreate)
list_parser = pagination_parser()


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
        return answer(JobsPage, {"data": found, "count": count})

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
        body = read_body(JobCreate)
        params = body.params.model_dump() if body.params is not None else None
        job = jobs.create_job(session=session(), owner=user, kind=body.kind, params=params)
        try:
            runtime().queue.enqueue(RUN_JOB, job.id)
        except Unavailable:
            error = "The job queue was unavailable"
            jobs.fail_unqueued(session=session(), job_id=job.id, error=error)
            raise
        return answer(JobPublic, job), 202


@ns.route("/<int:job_id>")
@ns.param("job_id", "The job's id")
class JobById(Resource):
    @ns.doc("readJob")
    @ns.response(200, "The job", job_model)
    @errors(ns, 401, 403, 404)
    def get(self, job_id: int) -> dict[str, Any]:
        """Read a job: yours, or any for a superuser."""
        user = current_user()
        job = jobs.get_job(session=session(), viewer=user, job_id=checked_id(job_id))
        return answer(JobPublic, job)
