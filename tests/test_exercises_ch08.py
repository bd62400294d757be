"""The chapter-8 checkers: reference solutions pass; typical wrong, None, raising and stub answers
never crash and get a hint."""

import itertools

import numpy as np
import pytest

from course_lib import rnn
from course_lib.exercises import CHECKS, FAILED, NOT_ATTEMPTED, PASSED, ch08, check
from course_lib.losses import softmax


def _sig(z):
    return 1 / (1 + np.exp(-z))


def rnn_step(x, h, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)


def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    z = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, g, o = _sig(z[:, :H]), _sig(z[:, H : 2 * H]), np.tanh(z[:, 2 * H : 3 * H]), _sig(z[:, 3 * H :])
    c = f * c + i * g
    return o * np.tanh(c), c


def lstm_cell_swapped(x, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    z = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, g, o = _sig(z[:, :H]), _sig(z[:, H : 2 * H]), np.tanh(z[:, 2 * H : 3 * H]), _sig(z[:, 3 * H :])
    c = i * c + f * g
    return o * np.tanh(c), c


def clip_grad_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g**2) for g in grads))
    return [g * min(1.0, max_norm / total) for g in grads]


def bigram_nll(counts, seqs):
    p = (counts + 1) / (counts + 1).sum(axis=1, keepdims=True)
    return -np.mean([np.log(p[a, b]) for s in seqs for a, b in itertools.pairwise(s)])


def make_windows(s, w):
    return np.stack([s[i : i + w] for i in range(len(s) - w)]), s[w:]


def pad_batch(seqs):
    X = np.zeros((len(seqs), max(map(len, seqs))), dtype=np.int64)
    for r, s in enumerate(seqs):
        X[r, : len(s)] = s
    return X, np.array([len(s) for s in seqs])


REFERENCE = {
    "ch08.rnn_step": rnn_step,
    "ch08.bptt_dh": ch08._bptt_dh_reference,
    "ch08.clip_grad_norm": clip_grad_norm,
    "ch08.lstm_cell": lstm_cell,
    "ch08.lstm_params": rnn.lstm_num_params,
    "ch08.gru_to_keras": rnn.torch_to_keras_gru,
    "ch08.temperature_probs": lambda logits, T: softmax(logits / T, axis=-1),
    "ch08.last_valid_state": lambda out, lengths: out[np.arange(len(out)), lengths - 1],
    "ch08.bigram_nll": bigram_nll,
    "ch08.pad_batch": pad_batch,
    "ch08.make_windows": make_windows,
    "ch08.seasonal_naive": lambda s, idx, season: s[idx - season],
}

WRONG = {
    "ch08.rnn_step": (lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + h @ W_hh.T + b_ih), "bias"),
    "ch08.bptt_dh": (lambda g, a, W: ch08._bptt_linear(g, W), "tanh'"),
    "ch08.clip_grad_norm": (lambda gs, m: [g * min(1.0, m / np.linalg.norm(g)) for g in gs], "global"),
    "ch08.lstm_cell": (lstm_cell_swapped, "swapped"),
    "ch08.lstm_params": (lambda D, H, fw: 4 * H * (D + H) + 4 * H, "two bias"),
    "ch08.gru_to_keras": (lambda W_ih, W_hh, b_ih, b_hh: [W_ih.T, W_hh.T, np.stack([b_ih, b_hh])], "swap"),
    "ch08.temperature_probs": (lambda logits, T: softmax(logits * T, axis=-1), "divide"),
    "ch08.last_valid_state": (lambda out, lengths: out[:, -1], "padding"),
    "ch08.bigram_nll": (lambda c, seqs: np.inf, "add one"),
    "ch08.pad_batch": (
        lambda seqs: (
            np.array([[0] * (max(map(len, seqs)) - len(s)) + s for s in seqs]),
            np.array([len(s) for s in seqs]),
        ),
        "left",
    ),
    "ch08.make_windows": (lambda s, w: (np.stack([s[i : i + w] for i in range(len(s) - w)]), s[w - 1 : -1]), "after"),
    "ch08.seasonal_naive": (lambda s, idx, season: s[idx - 1], "last-value"),
}


def _raise(*args):
    raise ZeroDivisionError("oops")


def _stub(*args):
    raise NotImplementedError()


def test_every_chapter_8_checker_is_tested():
    assert {n for n in CHECKS if n.startswith("ch08.")} == set(REFERENCE)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_passes(name):
    result = check(name, REFERENCE[name])
    assert result.status == PASSED, result.message


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_wrong_answer_fails_with_a_hint(name):
    fn, hint = WRONG[name]
    result = check(name, fn)
    assert result.status == FAILED
    assert hint in result.message, result.message


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("answer", [None, _raise, lambda *a: None, lambda *a: float("nan"), 42])
def test_broken_answers_never_crash(name, answer):
    result = check(name, answer)
    assert result.status in (FAILED, NOT_ATTEMPTED)
    if answer is not None:
        assert result.status == FAILED


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_stub_is_not_attempted(name):
    assert check(name, _stub).status == NOT_ATTEMPTED
    assert check(name, ...).status == NOT_ATTEMPTED
