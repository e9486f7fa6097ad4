"""ml.train_classifier: a classifier trained on a dataset that scikit-learn ships,
cross-validated fold by fold (each fold a progress step, where a cancellation takes
effect), then fitted on the whole training split and scored on the held-out one."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import datasets
from sklearn.base import ClassifierMixin, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from app.kinds.ml import TrainClassifierParams
from app.workers import RunningJob

FOLDS = 5
# Loaded from the files inside scikit-learn: nothing is downloaded.
DATASETS: dict[str, Callable[..., Any]] = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
}


def make_model(name: str, random_state: int) -> ClassifierMixin:
    if name == "logistic_regression":
        # Scaled first: the solver converges on every dataset here, without warnings.
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return RandomForestClassifier(n_estimators=100, random_state=random_state, n_jobs=1)


def train_classifier(job: RunningJob[TrainClassifierParams]) -> dict[str, Any]:
    params = job.params
    data = DATASETS[params.dataset]()
    features, target = np.asarray(data.data), np.asarray(data.target)
    x_train, x_test, y_train, y_test = train_test_split(
        features,
        target,
        test_size=params.test_size,
        random_state=params.random_state,
        stratify=target,
    )
    job.progress(5)

    model = make_model(params.model, params.random_state)
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=params.random_state)
    scores = []
    for done, (fit_rows, check_rows) in enumerate(folds.split(x_train, y_train), start=1):
        fold_model = clone(model).fit(x_train[fit_rows], y_train[fit_rows])
        scores.append(float(fold_model.score(x_train[check_rows], y_train[check_rows])))
        job.progress(5 + 80 * done // FOLDS)

    model.fit(x_train, y_train)
    job.progress(95)
    predicted = model.predict(x_test)
    labels = list(range(len(data.target_names)))
    return {
        "accuracy": float(accuracy_score(y_test, predicted)),
        "n_train": len(y_train),
        "n_test": len(y_test),
        "classes": [str(name) for name in data.target_names],
        "confusion_matrix": confusion_matrix(y_test, predicted, labels=labels).tolist(),
        "cross_validation": {"folds": FOLDS, "accuracy": scores},
        # Where it ran: in a container, the container's id.
        "host": socket.gethostname(),
    }
