"""The chapter-12 checkers: reference solutions pass; wrong, None, raising and stub answers never crash."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from course_lib.exercises import FAILED, NOT_ATTEMPTED, PASSED, ch12, check


def grad_x_input(model, x, target):
    x = x.clone().requires_grad_(True)
    model(x)[:, target].sum().backward()
    return (x * x.grad).detach()


def integrated_gradients(f, f_grad, x, baseline, steps):
    g = np.mean([f_grad(baseline + k / steps * (x - baseline)) for k in range(1, steps + 1)], axis=0)
    attr = (x - baseline) * g
    return attr, attr.sum() - (f(x) - f(baseline))


def occlusion_drops(score, image, patch):
    return ch12._occlusion_reference(score, image, patch)


def spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return np.corrcoef(ra, rb)[0, 1]


def _softmax_gxi(model, x, target):
    x = x.clone().requires_grad_(True)
    torch.softmax(model(x), 1)[:, target].sum().backward()
    return (x * x.grad).detach()


def _plain_grad(model, x, target):
    x = x.clone().requires_grad_(True)
    model(x)[:, target].sum().backward()
    return x.grad


def _ig_no_multiply(f, f_grad, x, baseline, steps):
    attr, _ = integrated_gradients(f, f_grad, x, baseline, steps)
    return attr / (x - baseline), 0.0


def _ig_wrong_gap_sign(f, f_grad, x, baseline, steps):
    attr, gap = integrated_gradients(f, f_grad, x, baseline, steps)
    return attr, -gap


REFERENCE = {
    "ch12.grad_x_input": grad_x_input,
    "ch12.integrated_gradients": integrated_gradients,
    "ch12.occlusion_drops": occlusion_drops,
    "ch12.spearman": spearman,
}

WRONG = [
    ("ch12.grad_x_input", _softmax_gxi, "softmax"),
    ("ch12.grad_x_input", _plain_grad, "plain gradient"),
    ("ch12.integrated_gradients", _ig_no_multiply, "averaged gradient"),
    ("ch12.integrated_gradients", _ig_wrong_gap_sign, "wrong sign"),
    ("ch12.occlusion_drops", lambda s, im, p: -occlusion_drops(s, im, p), "flipped"),
    ("ch12.occlusion_drops", lambda s, im, p: np.zeros((2, 2)), "shape"),
    ("ch12.spearman", lambda a, b: np.corrcoef(a, b)[0, 1], "Pearson"),
]


def _raise(*args):
    raise ZeroDivisionError("oops")


def _stub(*args):
    raise NotImplementedError()


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_passes(name):
    result = check(name, REFERENCE[name])
    assert result.status == PASSED, result.message


@pytest.mark.parametrize("name,fn,hint", WRONG)
def test_typical_mistakes_get_a_specific_message(name, fn, hint):
    result = check(name, fn)
    assert result.status == FAILED
    assert hint in result.message, result.message


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_broken_answers_never_crash(name):
    assert check(name, _stub).status == NOT_ATTEMPTED
    assert check(name, None).status == NOT_ATTEMPTED
    assert check(name, _raise).status == FAILED
    assert check(name, lambda *a: None).status == FAILED
