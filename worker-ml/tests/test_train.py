"""The runner itself, in this module's own environment (scikit-learn is only here):
real training on each dataset, progress in real steps, a cancellation between them.
Through a broker and a worker process: backend/tests/worker/process/test_ml_module.py."""

from __future__ import annotations

from typing import Any

import pytest

from app.kinds.ml import TrainClassifierParams
from app.workers import JobCancelled, RunningJob
from worker_ml.train import FOLDS, train_classifier


def run(report: Any = None, **params: Any) -> tuple[dict[str, Any], list[int]]:
    steps: list[int] = []

    def record(percent: int) -> bool:
        steps.append(percent)
        return report(percent) if report else True

    job = RunningJob(1, "ml.train_classifier", TrainClassifierParams(**params), record)
    return train_classifier(job), steps


@pytest.mark.parametrize("model", ["logistic_regression", "random_forest"])
def test_train_on_iris_reports_accuracy_and_confusion_matrix(model: str) -> None:
    result, steps = run(dataset="iris", model=model)
    assert result["classes"] == ["setosa", "versicolor", "virginica"]
    assert (result["n_train"], result["n_test"]) == (112, 38)
    matrix = result["confusion_matrix"]
    assert len(matrix) == 3 and all(len(row) == 3 for row in matrix)
    assert sum(map(sum, matrix)) == result["n_test"]
    correct = sum(matrix[i][i] for i in range(3))
    assert result["accuracy"] == pytest.approx(correct / result["n_test"])
    assert result["accuracy"] > 0.85
    assert len(result["cross_validation"]["accuracy"]) == FOLDS
    # The split, each fold, the final fit: in order, and never past 100.
    assert steps == sorted(steps) and len(steps) == FOLDS + 2 and steps[-1] < 100


@pytest.mark.parametrize(
    ("dataset", "classes", "rows"),
    [("wine", 3, 178), ("breast_cancer", 2, 569), ("digits", 10, 1797)],
)
def test_train_on_every_shipped_dataset(dataset: str, classes: int, rows: int) -> None:
    result, _ = run(dataset=dataset, model="logistic_regression", test_size=0.5)
    assert len(result["classes"]) == classes
    assert result["n_train"] + result["n_test"] == rows
    assert result["n_test"] == rows // 2 or result["n_test"] == rows - rows // 2
    assert result["accuracy"] > 0.8


def test_same_seed_same_result_and_another_seed_another_split() -> None:
    first, _ = run(dataset="wine", model="random_forest", random_state=7)
    again, _ = run(dataset="wine", model="random_forest", random_state=7)
    other, _ = run(dataset="wine", model="random_forest", random_state=8)
    assert first == again
    assert first["cross_validation"] != other["cross_validation"]


def test_cancelled_job_stops_at_the_next_fold() -> None:
    def cancel_after_two_folds(percent: int) -> bool:
        return percent <= 5 + 80 * 2 // FOLDS

    with pytest.raises(JobCancelled):
        run(cancel_after_two_folds, dataset="digits", model="random_forest")
