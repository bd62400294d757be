"""Chapter 4 checkers: the reference answers pass; wrong, None, crashing and stub answers never raise."""

import numpy as np
import pytest

from course_lib.exercises import FAILED, NOT_ATTEMPTED, PASSED, check


def _stub(*args, **kwargs):
    raise NotImplementedError()


def _crash(*args, **kwargs):
    raise RuntimeError("boom")


def _none(*args, **kwargs):
    return None


# -- reference solutions -------------------------------------------------------------------------
def log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def bce_logits_grad(z, y):
    s = np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))
    return (s - y) / len(z)


def keras_loss_for(output, labels):
    name = "SparseCategoricalCrossentropy" if labels == "integers" else "CategoricalCrossentropy"
    return name, output == "logits"


def focal_loss(z, y, alpha=0.25, gamma=2.0):
    p = np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))
    ce = np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))
    q = y * (1 - p) + (1 - y) * p
    a = alpha * y + (1 - alpha) * (1 - y)
    return np.mean(a * q**gamma * ce)


REFERENCE = {
    "ch04.log_softmax": log_softmax,
    "ch04.bce_logits_grad": bce_logits_grad,
    "ch04.keras_pairing": keras_loss_for,
    "ch04.focal_loss": focal_loss,
}

# -- typical mistakes, each must fail with a helpful message --------------------------------------
WRONG = [
    ("ch04.log_softmax", lambda z: np.log(np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)), "NaN or inf"),
    ("ch04.log_softmax", lambda z: z - np.log(np.exp(z - z.max()).sum(axis=0, keepdims=True)) - z.max(), "axis"),
    ("ch04.log_softmax", lambda z: log_softmax(z).T, "shape"),
    ("ch04.bce_logits_grad", lambda z, y: bce_logits_grad(z, y) * len(z), "N times"),
    ("ch04.bce_logits_grad", lambda z, y: -bce_logits_grad(z, y), "sign"),
    ("ch04.bce_logits_grad", lambda z, y: (1 / (1 + np.exp(-z)) - y) / len(z) + 0 * np.exp(-z) * 0, "NaN"),
    ("ch04.keras_pairing", lambda o, l: ("SparseCategoricalCrossentropy", True), "sparse"),
    ("ch04.keras_pairing", lambda o, l: keras_loss_for("logits", l), "softmax"),
    ("ch04.keras_pairing", lambda o, l: "CategoricalCrossentropy", "tuple"),
    ("ch04.keras_pairing", lambda o, l: (3, True), "string"),
    ("ch04.keras_pairing", lambda o, l: (keras_loss_for(o, l)[0], "yes"), "True or False"),
    ("ch04.focal_loss", lambda z, y, alpha=0.25, gamma=2.0: focal_loss(z, y, alpha, 0.0), "differs"),
    ("ch04.focal_loss", lambda z, y, alpha=0.25, gamma=2.0: np.full(len(z), 0.1), "one number"),
    ("ch04.focal_loss", lambda z, y, alpha=0.25, gamma=2.0: focal_loss(z, y, alpha, gamma)
     if np.abs(z).max() < 100 else np.mean(-np.log(1 / (1 + np.exp(-z)))), "NaN or inf"),
]


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_passes(name):
    with np.errstate(all="ignore"):
        r = check(name, REFERENCE[name])
    assert r.status == PASSED, r.message


@pytest.mark.parametrize("name, answer, fragment", WRONG)
def test_wrong_answer_fails_helpfully(name, answer, fragment):
    with np.errstate(all="ignore"):
        r = check(name, answer)
    assert r.status == FAILED, r.message
    assert fragment in r.message, r.message


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("answer, status", [(_stub, NOT_ATTEMPTED), (None, NOT_ATTEMPTED), (..., NOT_ATTEMPTED),
                                            (_crash, FAILED), (_none, FAILED), (42, FAILED)])
def test_broken_answers_never_raise(name, answer, status):
    r = check(name, answer)
    assert r.status == status, r.message
