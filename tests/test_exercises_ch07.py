"""The chapter 7 checkers: the reference passes; typical wrong answers fail with a specific hint;
None, raising, wrongly shaped and stub answers never crash."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.exercises import FAILED, NOT_ATTEMPTED, PASSED, check


def output_size(H, k, p, s, d):
    return (H + 2 * p - d * (k - 1) - 1) // s + 1


def conv1ch(x, k, stride=1, dilation=1):
    kh, kw = k.shape
    Ho = (x.shape[0] - dilation * (kh - 1) - 1) // stride + 1
    Wo = (x.shape[1] - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            patch = x[
                i * stride : i * stride + dilation * (kh - 1) + 1 : dilation,
                j * stride : j * stride + dilation * (kw - 1) + 1 : dilation,
            ]
            out[i, j] = np.sum(patch * k)
    return out


def maxpool_grad(x, grad_out, k):
    dx = np.zeros_like(x)
    for i in range(grad_out.shape[0]):
        for j in range(grad_out.shape[1]):
            win = x[i * k : (i + 1) * k, j * k : (j + 1) * k]
            m, n = np.unravel_index(np.argmax(win), win.shape)
            dx[i * k + m, j * k + n] += grad_out[i, j]
    return dx


def conv_input_grad(grad_out, k):
    kh, kw = k.shape
    padded = np.pad(grad_out, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    return conv1ch(padded, k[::-1, ::-1])


def stub(*args, **kwargs):
    raise NotImplementedError()


def crash(*args, **kwargs):
    raise ZeroDivisionError("oops")


REFERENCES = {
    "ch07.output_size": output_size,
    "ch07.conv1ch": conv1ch,
    "ch07.maxpool_grad": maxpool_grad,
    "ch07.conv_input_grad": conv_input_grad,
}


@pytest.mark.parametrize("name", list(REFERENCES))
def test_reference_passes(name):
    result = check(name, REFERENCES[name])
    assert result.status == PASSED, result.message


@pytest.mark.parametrize("name", list(REFERENCES))
@pytest.mark.parametrize(
    "answer",
    [
        lambda *a, **k: None,
        crash,
        lambda *a, **k: np.nan,
        lambda *a, **k: "x",
        lambda *a, **k: np.zeros((2, 2)),
        lambda *a, **k: 2.5,
        lambda *a, **k: True,
        None,
        42,
    ],
)
def test_bad_answers_fail_without_crashing(name, answer):
    result = check(name, answer)
    assert result.status in (FAILED, NOT_ATTEMPTED)
    assert result.message


@pytest.mark.parametrize("name", list(REFERENCES))
def test_stub_is_not_attempted(name):
    assert check(name, stub).status == NOT_ATTEMPTED
    assert check(name, ...).status == NOT_ATTEMPTED


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda H, k, p, s, d: (H + 2 * p - k) // s + 1, "dilation"),
        (lambda H, k, p, s, d: (H + 2 * p - d * (k - 1) - 1) // s, "count the first position"),
        (lambda H, k, p, s, d: (H + p - d * (k - 1) - 1) // s + 1, "both"),
        (lambda H, k, p, s, d: -(-(H + 2 * p - d * (k - 1) - 1) // s) + 1, "round down"),
        (lambda H, k, p, s, d: (H + 2 * p - d * (k - 1) - 1) / s + 1, "floor division"),
    ],
)
def test_output_size_hints(answer, hint):
    result = check("ch07.output_size", answer)
    assert result.status == FAILED and hint in result.message, result.message


def test_conv1ch_hints():
    flipped = lambda x, k, stride=1, dilation=1: conv1ch(x, k[::-1, ::-1], stride, dilation)
    no_stride = lambda x, k, stride=1, dilation=1: conv1ch(x, k, 1, dilation)
    no_dilation = lambda x, k, stride=1, dilation=1: conv1ch(x, k, stride, 1)
    for answer, hint in (
        (flipped, "flipped the kernel"),
        (no_stride, "ignored the stride"),
        (no_dilation, "ignored the dilation"),
    ):
        result = check("ch07.conv1ch", answer)
        assert result.status == FAILED and hint in result.message, result.message


def test_maxpool_grad_hints():
    def even(x, g, k):
        dx = np.zeros_like(x)
        h, w = g.shape[0] * k, g.shape[1] * k
        dx[:h, :w] = np.kron(g, np.ones((k, k))) / k**2
        return dx

    def all_ties(x, g, k):
        dx = np.zeros_like(x)
        for i in range(g.shape[0]):
            for j in range(g.shape[1]):
                win = x[i * k : (i + 1) * k, j * k : (j + 1) * k]
                dx[i * k : (i + 1) * k, j * k : (j + 1) * k] += (win == win.max()) * g[i, j]
        return dx

    for answer, hint in (
        (even, "average pooling"),
        (all_ties, "first one"),
        (lambda x, g, k: maxpool_grad(x, np.ones_like(g), k), "upstream gradient"),
    ):
        result = check("ch07.maxpool_grad", answer)
        assert result.status == FAILED and hint in result.message, result.message


def test_conv_input_grad_hints():
    def no_flip(g, k):
        kh, kw = k.shape
        return conv1ch(np.pad(g, ((kh - 1, kh - 1), (kw - 1, kw - 1))), k)

    result = check("ch07.conv_input_grad", no_flip)
    assert result.status == FAILED and "flipped" in result.message, result.message
    result = check("ch07.conv_input_grad", lambda g, k: conv1ch(g, k))
    assert result.status == FAILED and "full" in result.message, result.message
