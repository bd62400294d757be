"""Chapter 4 exercise answers: references, and wrong answers with their hint."""

import numpy as np


# -- reference solutions -------------------------------------------------------------------------
def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def bce_logits_grad(z, y):
    return (_sigmoid(z) - y) / len(z)


def keras_loss_for(output, labels):
    name = "SparseCategoricalCrossentropy" if labels == "integers" else "CategoricalCrossentropy"
    return name, output == "logits"


def focal_loss(z, y, alpha=0.25, gamma=2.0):
    p = _sigmoid(z)
    ce = np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))
    q = y * (1 - p) + (1 - y) * p
    a = alpha * y + (1 - alpha) * (1 - y)
    return np.mean(a * q**gamma * ce)


# -- typical wrong answers -----------------------------------------------------------------------
def focal_loss_unstable(z, y, alpha=0.25, gamma=2.0):
    """Right for moderate logits; log(sigmoid(z)) for huge ones."""
    if np.abs(z).max() < 100:
        return focal_loss(z, y, alpha, gamma)
    return np.mean(-np.log(1 / (1 + np.exp(-z))))


PASS = [
    ("ch04.log_softmax", log_softmax),
    ("ch04.bce_logits_grad", bce_logits_grad),
    ("ch04.keras_pairing", keras_loss_for),
    ("ch04.focal_loss", focal_loss),
]

FAIL = [
    ("ch04.log_softmax", lambda z: np.log(np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)), "NaN or inf"),
    ("ch04.log_softmax", lambda z: z - np.log(np.exp(z - z.max()).sum(axis=0, keepdims=True)) - z.max(), "axis"),
    ("ch04.log_softmax", lambda z: log_softmax(z).T, "shape"),
    ("ch04.bce_logits_grad", lambda z, y: bce_logits_grad(z, y) * len(z), "N times"),
    ("ch04.bce_logits_grad", lambda z, y: -bce_logits_grad(z, y), "sign"),
    ("ch04.bce_logits_grad", lambda z, y: (1 / (1 + np.exp(-z)) - y) / len(z) + 0 * np.exp(-z) * 0, "NaN"),
    ("ch04.keras_pairing", lambda o, labels: ("SparseCategoricalCrossentropy", True), "sparse"),
    ("ch04.keras_pairing", lambda o, labels: keras_loss_for("logits", labels), "softmax"),
    ("ch04.keras_pairing", lambda o, labels: "CategoricalCrossentropy", "tuple"),
    ("ch04.keras_pairing", lambda o, labels: (3, True), "string"),
    ("ch04.keras_pairing", lambda o, labels: (keras_loss_for(o, labels)[0], "yes"), "True or False"),
    ("ch04.focal_loss", lambda z, y, alpha=0.25, gamma=2.0: focal_loss(z, y, alpha, 0.0), "differs"),
    ("ch04.focal_loss", lambda z, y, alpha=0.25, gamma=2.0: np.full(len(z), 0.1), "one number"),
    ("ch04.focal_loss", focal_loss_unstable, "NaN or inf"),
]
