"""The ml module's Celery application: `celery -A worker_ml.main worker`.

It consumes the `ml` queue and runs the kinds declared for it in app/kinds/ml.py.
Its dependencies (scikit-learn, numpy) are its own: the API and the default worker
never install them.
"""

from __future__ import annotations

from app.kinds import ml
from app.workers import create_worker_app

from .train import train_classifier

QUEUES = [ml.QUEUE]
RUNNERS = {ml.TRAIN_CLASSIFIER: train_classifier}

celery_app = create_worker_app(queues=QUEUES, runners=RUNNERS)
