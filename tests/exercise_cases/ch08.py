"""Chapter 8 exercise answers (8a-8d): references, and wrong answers with their hint."""

import itertools

import numpy as np

from course_lib import rnn
from course_lib.losses import softmax


# -- reference solutions -------------------------------------------------------------------------
def _sig(z):
    return 1 / (1 + np.exp(-z))


def rnn_step(x, h, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)


def bptt_dh(grad_out, a, W_hh, tanh_grad=True):
    """dL/dh_t from the last step back; ``tanh_grad=False`` is the typical mistake."""
    dh = np.zeros_like(grad_out)
    carry = np.zeros_like(grad_out[0])
    for t in reversed(range(len(a))):
        dh[t] = grad_out[t] + carry
        da = dh[t] * (1.0 - np.tanh(a[t]) ** 2) if tanh_grad else dh[t]
        carry = da @ W_hh
    return dh


def clip_grad_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g**2) for g in grads))
    return [g * min(1.0, max_norm / total) for g in grads]


def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh, swap_i_f=False):
    H = h.shape[1]
    z = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, g, o = _sig(z[:, :H]), _sig(z[:, H : 2 * H]), np.tanh(z[:, 2 * H : 3 * H]), _sig(z[:, 3 * H :])
    if swap_i_f:
        i, f = f, i
    c = f * c + i * g
    return o * np.tanh(c), c


def lstm_params(input_size, hidden_size, framework):
    return rnn.lstm_num_params(input_size, hidden_size, framework)


def gru_to_keras(W_ih, W_hh, b_ih, b_hh):
    return rnn.torch_to_keras_gru(W_ih, W_hh, b_ih, b_hh)


def temperature_probs(logits, T):
    return softmax(logits / T, axis=-1)


def last_valid_state(out, lengths):
    return out[np.arange(len(out)), lengths - 1]


def bigram_nll(counts, seqs):
    p = (counts + 1) / (counts + 1).sum(axis=1, keepdims=True)
    return -np.mean([np.log(p[a, b]) for s in seqs for a, b in itertools.pairwise(s)])


def pad_batch(seqs):
    X = np.zeros((len(seqs), max(map(len, seqs))), dtype=np.int64)
    for r, s in enumerate(seqs):
        X[r, : len(s)] = s
    return X, np.array([len(s) for s in seqs])


def make_windows(s, w):
    return np.stack([s[i : i + w] for i in range(len(s) - w)]), s[w:]


def seasonal_naive(s, idx, season):
    return s[idx - season]


# -- typical wrong answers -----------------------------------------------------------------------
def _lstm_cell_swapped(x, h, c, W_ih, W_hh, b_ih, b_hh):
    return lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh, swap_i_f=True)


def _pad_batch_left(seqs):
    return (np.array([[0] * (max(map(len, seqs)) - len(s)) + s for s in seqs]), np.array([len(s) for s in seqs]))


def _windows_y_is_last_value(s, w):
    return np.stack([s[i : i + w] for i in range(len(s) - w)]), s[w - 1 : -1]


def _lstm_cell_no_forget_gate(x, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    z = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, g, o = _sig(z[:, :H]), np.tanh(z[:, 2 * H : 3 * H]), _sig(z[:, 3 * H :])
    c = c + i * g
    return o * np.tanh(c), c


def _lstm_cell_h_without_tanh(x, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    _, c = lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh)
    o = _sig((x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)[:, 3 * H :])
    return o * c, c


def _gru_one_bias_row(W_ih, W_hh, b_ih, b_hh):
    kernel, recurrent, bias = rnn.torch_to_keras_gru(W_ih, W_hh, b_ih, b_hh)
    return [kernel, recurrent, bias.sum(axis=0)]


def _temperature_probs_unstable(logits, T):
    e = np.exp(logits / T)
    return e / e.sum(axis=-1, keepdims=True)


def _bigram_nll_columns(counts, seqs):
    p = (counts + 1) / (counts + 1).sum(axis=0, keepdims=True)
    return -np.mean([np.log(p[a, b]) for s in seqs for a, b in itertools.pairwise(s)])


PASS = [
    ("ch08.rnn_step", rnn_step),
    ("ch08.bptt_dh", bptt_dh),
    ("ch08.clip_grad_norm", clip_grad_norm),
    ("ch08.lstm_cell", lstm_cell),
    ("ch08.lstm_params", lstm_params),
    ("ch08.gru_to_keras", gru_to_keras),
    ("ch08.temperature_probs", temperature_probs),
    ("ch08.last_valid_state", last_valid_state),
    ("ch08.bigram_nll", bigram_nll),
    ("ch08.pad_batch", pad_batch),
    ("ch08.make_windows", make_windows),
    ("ch08.seasonal_naive", seasonal_naive),
]

FAIL = [
    ("ch08.rnn_step", lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + h @ W_hh.T + b_ih), "bias"),
    ("ch08.bptt_dh", lambda g, a, W: bptt_dh(g, a, W, tanh_grad=False), "tanh'"),
    ("ch08.clip_grad_norm", lambda gs, m: [g * min(1.0, m / np.linalg.norm(g)) for g in gs], "global"),
    ("ch08.lstm_cell", _lstm_cell_swapped, "swapped"),
    ("ch08.lstm_params", lambda D, H, fw: 4 * H * (D + H) + 4 * H, "two bias"),
    ("ch08.gru_to_keras", lambda W_ih, W_hh, b_ih, b_hh: [W_ih.T, W_hh.T, np.stack([b_ih, b_hh])], "swap"),
    ("ch08.temperature_probs", lambda logits, T: softmax(logits * T, axis=-1), "divide"),
    ("ch08.last_valid_state", lambda out, lengths: out[:, -1], "padding"),
    ("ch08.bigram_nll", lambda c, seqs: np.inf, "add one"),
    ("ch08.pad_batch", _pad_batch_left, "left"),
    ("ch08.make_windows", _windows_y_is_last_value, "after"),
    ("ch08.seasonal_naive", lambda s, idx, season: s[idx - 1], "last-value"),
    # more of the checker's hints, one wrong answer each
    ("ch08.rnn_step", lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + h @ W_hh + b_ih + b_hh), "W_hh.T"),
    ("ch08.rnn_step", lambda x, h, W_ih, W_hh, b_ih, b_hh: x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, "apply tanh"),
    ("ch08.bptt_dh", lambda g, a, W: bptt_dh(g, a, W.T), "W_hh.T"),
    ("ch08.bptt_dh", lambda g, a, W: g, "from step t+1 is missing"),
    ("ch08.clip_grad_norm", lambda gs, m: np.concatenate([g.ravel() for g in gs]), "return a list"),
    ("ch08.lstm_cell", _lstm_cell_no_forget_gate, "ignores the forget gate"),
    ("ch08.lstm_cell", _lstm_cell_h_without_tanh, "the tanh is missing"),
    ("ch08.lstm_params", lambda D, H, fw: 4 * H * (D + H), "count four gates"),
    ("ch08.gru_to_keras", _gru_one_bias_row, "two bias rows"),
    ("ch08.temperature_probs", _temperature_probs_unstable, "subtract the maximum"),
    (
        "ch08.last_valid_state",
        lambda out, lengths: out[np.arange(len(out)), np.minimum(lengths, out.shape[1] - 1)],
        "off by one",
    ),
    ("ch08.bigram_nll", _bigram_nll_columns, "*row*"),
    (
        "ch08.make_windows",
        lambda s, w: (np.stack([s[i : i + w] for i in range(len(s) - w + 1)]), s[w - 1 :]),
        "one window too many",
    ),
    ("ch08.seasonal_naive", lambda s, idx, season: s[idx], "targets themselves"),
]
