"""What every worker module is built from: its Celery app (`create_worker_app`),
the task that runs jobs, and the runner API (`RunningJob`, `JobFailed`).

A worker module is its own Python project and image (worker/ is the default one,
worker-<name>/ the others) that depends on this Flask-free core and on its own
libraries. It consumes its own queues and runs the kinds declared for them in
app/kinds:

    from app.kinds.ml import TRAIN_CLASSIFIER
    from app.workers import RunningJob, create_worker_app

    def train(job: RunningJob[TrainClassifierParams]) -> dict[str, Any]:
        ...
        job.progress(50)          # raises JobCancelled when its owner cancelled it
        ...

    celery_app = create_worker_app(queues=["ml"], runners={TRAIN_CLASSIFIER: train})
"""

from __future__ import annotations

from .app import WorkerCelery, create_worker_app
from .context import ContextTask
from .jobs import JobCancelled, JobFailed, Runner, RunningJob

__all__ = [
    "ContextTask",
    "JobCancelled",
    "JobFailed",
    "Runner",
    "RunningJob",
    "WorkerCelery",
    "create_worker_app",
]
