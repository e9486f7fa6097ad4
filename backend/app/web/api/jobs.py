"""Jobs: start background work on the worker and follow it."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource

from app.kinds import KINDS
from app.queue import RUN_JOB
from app.schemas.jobs import JobCreate, JobKinds, JobPublic, JobsPage
from app.services import jobs
from app.services.errors import Unavailable
from app.web import metrics
from app.web.auth import current_user
from app.web.db import autocommit, runtime, session

from .schema import checked_id, errors, page_args, pagination_parser, register_common_models
from .shapes import answer, document, read_body

ns = Namespace("jobs", description="Background jobs run by the worker modules")
register_common_models(ns)

job_model = document(ns, JobPublic)
jobs_page_model = document(ns, JobsPage)
job_create_model = document(ns, JobCreate)
job_kinds_model = document(ns, JobKinds)
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
        """Start a job of a kind you may run (GET /jobs/kinds); follow it with readJob."""
        user = current_user()
        body = read_body(JobCreate)
        kind = KINDS[body.kind]
        job = jobs.create_job(session=session(), owner=user, kind=kind, params=body.params)
        try:
            runtime().queue.enqueue(RUN_JOB, job.id, queue=kind.queue, job_kind=kind.name)
        except Unavailable:
            error = "The job queue was unavailable"
            jobs.fail_unqueued(session=session(), job_id=job.id, error=error)
            raise
        metrics.job_created(kind.name)
        return answer(JobPublic, job), 202


@ns.route("/kinds")
class JobKindList(Resource):
    @ns.doc("readJobKinds")
    @ns.response(200, "Every kind of job, with its params' JSON Schema", job_kinds_model)
    @errors(ns, 401, 403)
    def get(self) -> dict[str, Any]:
        """List the kinds of job, and whether you may start each (superusers: and
        whether a worker runs each now)."""
        kinds = jobs.list_kinds(
            viewer=current_user(), consumed_queues=runtime().queue.consumed_queues
        )
        return answer(JobKinds, {"data": kinds})


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


@ns.route("/<int:job_id>/cancel")
@ns.param("job_id", "The job's id")
class JobCancel(Resource):
    @ns.doc("cancelJob")
    @ns.response(202, "Cancelled, or asked to stop when running", job_model)
    @errors(ns, 401, 403, 404, 409)
    def post(self, job_id: int) -> tuple[dict[str, Any], int]:
        """Cancel a job: yours, or any for a superuser. 409 once it has finished."""
        user = current_user()
        job = jobs.cancel_job(session=session(), viewer=user, job_id=checked_id(job_id))
        session().commit()
        return answer(JobPublic, job), 202
