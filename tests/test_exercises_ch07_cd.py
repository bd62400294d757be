"""The checkers of sections 7c/7d: references pass; typical wrong answers fail with a specific hint;
None, raising, wrong-type and stub answers never crash."""

import numpy as np
import pytest

from course_lib.exercises import FAILED, NOT_ATTEMPTED, PASSED, ch07, check


def cnn_params(input_shape, layers):
    return ch07._cnn_params_reference(input_shape, layers)


def receptive_field(layers):
    return ch07._receptive_field_reference(layers)


def fold_batchnorm(w, b, gamma, beta, mean, var, eps):
    return ch07._fold_bn_reference(w, b, gamma, beta, mean, var, eps)


def keras_loss_for(output, labels):
    import keras

    from_logits = output == "logits"
    if labels == "integer":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    return keras.losses.CategoricalCrossentropy(from_logits=from_logits)


def _always_sparse_from_logits(output, labels):
    import keras

    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _right_labels_always_from_logits(output, labels):
    import keras

    cls = keras.losses.SparseCategoricalCrossentropy if labels == "integer" else keras.losses.CategoricalCrossentropy
    return cls(from_logits=True)


def _rf_without_dilation(layers):
    r, j, out = 1, 1, []
    for k, s, _ in layers:
        r += (k - 1) * j
        j *= s
        out.append(r)
    return out


def _rf_jump_updated_first(layers):
    r, j, out = 1, 1, []
    for k, s, d in layers:
        j *= s
        r += d * (k - 1) * j
        out.append(r)
    return out


REFERENCE = {
    "ch07.cnn_params": cnn_params,
    "ch07.receptive_field": receptive_field,
    "ch07.fold_batchnorm": fold_batchnorm,
    "ch07.keras_loss_for": keras_loss_for,
}

WRONG = {
    "ch07.cnn_params": [
        (lambda s, layers: ch07._count(s, layers, bias=False), "biases"),
        (lambda s, layers: ch07._count(s, layers, in_channels=False), "all input channels"),
        (lambda s, layers: ch07._count(s, layers, pooling=False), "Pooling has no parameters"),
        (lambda s, layers: ch07._count(s, layers) + 1, "Track (C, H, W)"),
    ],
    "ch07.receptive_field": [
        (_rf_without_dilation, "dilation"),
        (_rf_jump_updated_first, "old jump"),
        (lambda layers: list(np.cumsum([d * (k - 1) for k, _, d in layers]) + 1), "running jump"),
        (lambda layers: [5] * len(layers), "Start from r = 1"),
    ],
    "ch07.fold_batchnorm": [
        (lambda w, b, g, be, m, v, eps: (w * (g / np.sqrt(v))[:, None, None, None], b), "eps"),
        (lambda w, b, g, be, m, v, eps: (w * (g / (v + eps))[:, None, None, None], b), "standard deviation"),
        (
            lambda w, b, g, be, m, v, eps: (
                w * (g / np.sqrt(v + eps))[:, None, None, None],
                (b - m) * g / np.sqrt(v + eps),
            ),
            "beta",
        ),
        (
            lambda w, b, g, be, m, v, eps: (
                w * (g / np.sqrt(v + eps))[:, None, None, None],
                b * g / np.sqrt(v + eps) + be - m,
            ),
            "before scaling",
        ),
        (lambda w, b, g, be, m, v, eps: (w * g / np.sqrt(v + eps), b), "shape"),
    ],
    "ch07.keras_loss_for": [
        (_always_sparse_from_logits, "CategoricalCrossentropy"),
        (_right_labels_always_from_logits, "softmax applied twice"),
    ],
}


def _raise(*args):
    raise ZeroDivisionError("oops")


def _stub(*args):
    raise NotImplementedError()


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_passes(name):
    if name == "ch07.keras_loss_for":
        pytest.importorskip("keras")
    result = check(name, REFERENCE[name], time_limit=60)
    assert result.status == PASSED, result.message


@pytest.mark.parametrize("name,index", [(n, i) for n, wrongs in WRONG.items() for i in range(len(wrongs))])
def test_wrong_answer_fails_with_a_hint(name, index):
    if name == "ch07.keras_loss_for":
        pytest.importorskip("keras")
    fn, hint = WRONG[name][index]
    result = check(name, fn, time_limit=60)
    assert result.status == FAILED
    assert hint in result.message, result.message


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("answer", [None, _raise, lambda *a: None, lambda *a: float("nan"), lambda *a: "text", 42])
def test_broken_answers_never_crash(name, answer):
    result = check(name, answer, time_limit=60)
    assert result.status in (FAILED, NOT_ATTEMPTED)
    if answer is not None:
        assert result.status == FAILED


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_stub_is_not_attempted(name):
    assert check(name, _stub).status == NOT_ATTEMPTED
    assert check(name, ...).status == NOT_ATTEMPTED


def test_loss_object_that_raises_on_call_is_a_failure_not_a_crash():
    class Broken:
        def __call__(self, y, p):
            raise RuntimeError("bad loss")

    result = check("ch07.keras_loss_for", lambda o, l: Broken())
    assert result.status == FAILED and "RuntimeError" in result.message


def test_loss_object_that_is_a_stub_is_not_attempted():
    class Stub:
        def __call__(self, y, p):
            raise NotImplementedError()

    assert check("ch07.keras_loss_for", lambda o, l: Stub()).status == NOT_ATTEMPTED
