"""The kinds the ml worker module (worker-ml/) runs, on the `ml` queue. Declared
here, in the core, so the API can validate and route them without scikit-learn."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.schemas.common import Input, Integer

from .base import JobKind

QUEUE = "ml"


class TrainClassifierParams(Input):
    dataset: Literal["iris", "wine", "breast_cancer", "digits"] = Field(
        description="A dataset that scikit-learn ships"
    )
    model: Literal["logistic_regression", "random_forest"] = Field(
        description="The classifier to train"
    )
    test_size: float = Field(
        default=0.25, ge=0.1, le=0.5, description="The share of the data held out for testing"
    )
    random_state: Integer = Field(
        default=0,
        ge=0,
        le=2**32 - 1,
        description="Seed of the split and the model: the same seed, the same result",
    )


TRAIN_CLASSIFIER = JobKind(
    name="ml.train_classifier",
    title="Train a classifier",
    description=(
        "Trains a classifier on one of scikit-learn's datasets, cross-validates it, "
        "and reports its accuracy and confusion matrix on held-out data."
    ),
    params=TrainClassifierParams,
    queue=QUEUE,
)

KINDS = [TRAIN_CLASSIFIER]
