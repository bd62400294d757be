"""Checkers for chapter 8, "Recurrent networks" (chapters/08a-08e)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from course_lib import rnn
from course_lib.exercises._core import CheckFailed, call, expect_array, expect_equal, register, to_numpy
from course_lib.losses import softmax


def _rnn_case(rng: np.random.Generator, N: int, D: int, H: int, gates: int = 1) -> tuple[np.ndarray, ...]:
    return (
        rng.normal(size=(N, D)),
        rng.normal(size=(N, H)) * 0.5,
        rng.normal(size=(gates * H, D)) * 0.5,
        rng.normal(size=(gates * H, H)) * 0.5,
        rng.normal(size=gates * H) * 0.1,
        rng.normal(size=gates * H) * 0.1,
    )


def _close(a: Any, b: np.ndarray) -> bool:
    try:
        a = to_numpy(a)
    except CheckFailed:
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-8, atol=1e-10))


# ---------------------------------------------------------------------------- 08a
@register("ch08.rnn_step")
def _rnn_step(rnn_step: Any) -> str:
    """``rnn_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)`` -> ``h_t`` (N, H), tanh cell, PyTorch layout."""
    rng = np.random.default_rng(0)
    for N, D, H in ((3, 4, 5), (1, 2, 2), (6, 3, 3)):
        x, h, W_ih, W_hh, b_ih, b_hh = _rnn_case(rng, N, D, H)
        got = call(rnn_step, x.copy(), h.copy(), W_ih.copy(), W_hh.copy(), b_ih.copy(), b_hh.copy())
        want = rnn.rnn_forward(x[None], h, W_ih, W_hh, b_ih, b_hh)[1]
        if _close(got, np.tanh(x @ W_ih.T + h @ W_hh + b_ih + b_hh)):  # W_hh is (H, H), any D; H > 1 here
            raise CheckFailed(
                "you multiply h_prev by W_hh instead of W_hh.T: PyTorch stores W_hh as "
                "(H_out, H_in), so a row of states is multiplied by its transpose."
            )
        if _close(got, np.tanh(x @ W_ih.T + h @ W_hh.T + b_ih)) or _close(got, np.tanh(x @ W_ih.T + h @ W_hh.T + b_hh)):
            raise CheckFailed("one bias is missing: PyTorch adds both b_ih and b_hh.")
        if _close(got, x @ W_ih.T + h @ W_hh.T + b_ih + b_hh):
            raise CheckFailed("you return the pre-activation; apply tanh.")
        expect_array(got, want, rtol=1e-8, atol=1e-10, what=f"rnn_step with N={N}, D={D}, H={H}")
    return "h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), exactly torch.nn.RNN's step."


def _bptt_dh_reference(grad_out: np.ndarray, a: np.ndarray, W_hh: np.ndarray) -> np.ndarray:
    dh = np.zeros_like(grad_out)
    carry = np.zeros_like(grad_out[0])
    for t in reversed(range(len(a))):
        dh[t] = grad_out[t] + carry
        carry = (dh[t] * (1.0 - np.tanh(a[t]) ** 2)) @ W_hh
    return dh


@register("ch08.bptt_dh")
def _bptt_dh(bptt_dh: Any) -> str:
    """``bptt_dh(grad_out, a, W_hh)`` -> ``dh`` (T, N, H): dL/dh_t for a tanh RNN with
    pre-activations ``a`` (T, N, H) and dL/d out_t = ``grad_out`` (T, N, H)."""
    rng = np.random.default_rng(1)
    for T, N, H in ((5, 2, 3), (1, 1, 2), (8, 3, 4)):
        g, a, W = rng.normal(size=(T, N, H)), rng.normal(size=(T, N, H)), rng.normal(size=(H, H)) * 0.6
        got = call(bptt_dh, g.copy(), a.copy(), W.copy())
        want = _bptt_dh_reference(g, a, W)
        if T > 1 and _close(got, _bptt_dh_reference(g, a, W.T)):
            raise CheckFailed(
                "you multiply by W_hh.T; going backwards, dL/dh_{t-1} = (dL/da_t) W_hh "
                "(the transpose of the forward map h W_hh^T)."
            )
        if T > 1 and _close(got, _bptt_linear(g, W)):
            raise CheckFailed(
                "you forgot tanh'(a_{t+1}) = 1 - tanh(a_{t+1})^2 when passing the gradient back through step t+1."
            )
        if T > 1 and _close(got, g):
            raise CheckFailed("dh_t is only dL/d out_t: the gradient arriving from step t+1 is missing.")
        expect_array(got, want, rtol=1e-8, atol=1e-10, what=f"dh for T={T}, N={N}, H={H}")
    return "dh_t = g_t + (dh_{t+1} * tanh'(a_{t+1})) W_hh, from the last step back to the first."


def _bptt_linear(g: np.ndarray, W: np.ndarray) -> np.ndarray:
    dh = np.zeros_like(g)
    carry = np.zeros_like(g[0])
    for t in reversed(range(len(g))):
        dh[t] = g[t] + carry
        carry = dh[t] @ W
    return dh


@register("ch08.clip_grad_norm")
def _clip_grad_norm(clip_grad_norm: Any) -> str:
    """``clip_grad_norm(grads, max_norm)`` -> list of arrays rescaled so that their *global* L2
    norm is at most ``max_norm`` (as ``torch.nn.utils.clip_grad_norm_``)."""
    rng = np.random.default_rng(2)
    cases = [
        ([rng.normal(size=(3, 4)), rng.normal(size=5)], 1.0),
        ([rng.normal(size=(2, 2)) * 0.01], 1.0),
        ([rng.normal(size=7) * 10, rng.normal(size=(2, 3)), rng.normal(size=1)], 2.5),
    ]
    for grads, max_norm in cases:
        got = call(clip_grad_norm, [g.copy() for g in grads], max_norm)
        if not isinstance(got, (list, tuple)) or len(got) != len(grads):
            raise CheckFailed(f"return a list of {len(grads)} arrays, one per gradient, got {type(got).__name__}.")
        total = np.sqrt(sum(float(np.sum(g**2)) for g in grads))
        scale = min(1.0, max_norm / total)
        per_tensor = [g * min(1.0, float(max_norm / np.linalg.norm(g))) for g in grads]
        if len(grads) > 1 and all(_close(a, b) for a, b in zip(got, per_tensor)) and scale < 1:
            raise CheckFailed(
                "you clip each array by its own norm; clipping by the *global* norm rescales all "
                "of them by the same factor, so the direction of the full gradient is kept."
            )
        for k, (a, g) in enumerate(zip(got, grads)):
            expect_array(a, g * scale, rtol=1e-8, atol=1e-12, what=f"clipped gradient {k} (max_norm={max_norm})")
    return "one factor min(1, max_norm / ||g||) for all arrays: the direction of the update is kept."


# ---------------------------------------------------------------------------- 08b
@register("ch08.lstm_cell")
def _lstm_cell(lstm_cell: Any) -> str:
    """``lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh)`` -> ``(h_new, c_new)``, PyTorch gate order i, f, g, o."""
    rng = np.random.default_rng(3)
    for N, D, H in ((2, 3, 4), (1, 1, 1), (5, 2, 3)):
        x, h, W_ih, W_hh, b_ih, b_hh = _rnn_case(rng, N, D, H, gates=4)
        c = rng.normal(size=(N, H))
        got = call(lstm_cell, x.copy(), h.copy(), c.copy(), W_ih.copy(), W_hh.copy(), b_ih.copy(), b_hh.copy())
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(f"return a pair (h_new, c_new), got {type(got).__name__}.")
        _, (h_want, c_want) = rnn.lstm_forward(x[None], h, c, W_ih, W_hh, b_ih, b_hh)
        z = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
        i, f, g = (1 / (1 + np.exp(-z[:, :H]))), (1 / (1 + np.exp(-z[:, H : 2 * H]))), np.tanh(z[:, 2 * H : 3 * H])
        if H > 1 and _close(got[1], i * c + f * g):
            raise CheckFailed(
                "the input and forget gates are swapped: PyTorch's order is i, f, g, o, and c_new = f * c + i * g."
            )
        if _close(got[1], c + i * g):
            raise CheckFailed("c_new = c + i * g ignores the forget gate: multiply the old cell by f.")
        expect_array(got[1], c_want, rtol=1e-8, atol=1e-10, what=f"c_new (N={N}, D={D}, H={H})")
        if _close(got[0], 1 / (1 + np.exp(-z[:, 3 * H :])) * c_want):
            raise CheckFailed("h_new = o * tanh(c_new): the tanh is missing.")
        expect_array(got[0], h_want, rtol=1e-8, atol=1e-10, what=f"h_new (N={N}, D={D}, H={H})")
    return "c_new = f*c + i*g and h_new = o*tanh(c_new), equal to torch.nn.LSTM's step."


@register("ch08.lstm_params")
def _lstm_params(lstm_params: Any) -> str:
    """``lstm_params(input_size, hidden_size, framework)`` -> number of trainable parameters."""
    for D, H in ((1, 1), (10, 128), (300, 64)):
        for fw in ("torch", "keras"):
            got = call(lstm_params, D, H, fw)
            want = rnn.lstm_num_params(D, H, fw)
            if fw == "torch" and got == rnn.lstm_num_params(D, H, "keras"):
                raise CheckFailed(
                    f"lstm_params({D}, {H}, 'torch') = {got}: PyTorch keeps two bias vectors "
                    "(b_ih and b_hh), 8H biases in all."
                )
            if got == 4 * H * (D + H) or got == H * (D + H) + 2 * H:
                raise CheckFailed(
                    f"lstm_params({D}, {H}, {fw!r}) = {got}: count four gates, each with an input "
                    "matrix (H x D), a recurrent matrix (H x H) and its biases."
                )
            expect_equal(got, want, what=f"lstm_params({D}, {H}, {fw!r})")
    return "4H(D + H) weights plus 8H (PyTorch) or 4H (Keras) biases."


@register("ch08.gru_to_keras")
def _gru_to_keras(gru_to_keras: Any) -> str:
    """``gru_to_keras(W_ih, W_hh, b_ih, b_hh)`` -> ``[kernel, recurrent_kernel, bias]`` for
    ``keras.layers.GRU(reset_after=True)``."""
    rng = np.random.default_rng(4)
    for D, H in ((3, 2), (1, 4)):
        W_ih, W_hh = rng.normal(size=(3 * H, D)), rng.normal(size=(3 * H, H))
        b_ih, b_hh = rng.normal(size=3 * H), rng.normal(size=3 * H)
        got = call(gru_to_keras, W_ih.copy(), W_hh.copy(), b_ih.copy(), b_hh.copy())
        if not isinstance(got, (list, tuple)) or len(got) != 3:
            raise CheckFailed("return a list [kernel, recurrent_kernel, bias], as Keras' get_weights() does.")
        want = rnn.torch_to_keras_gru(W_ih, W_hh, b_ih, b_hh)
        if _close(got[0], W_ih.T):
            raise CheckFailed(
                "the kernel is W_ih.T without reordering: PyTorch stacks r, z, n and Keras z, r, h, "
                "so the first two blocks of H columns must swap."
            )
        if _close(got[2], np.stack([b_ih, b_hh])):
            raise CheckFailed("the biases are in PyTorch's gate order; swap the r and z blocks in both rows.")
        if to_numpy(got[2], "your bias").shape == (3 * H,):
            raise CheckFailed(
                "with reset_after=True Keras keeps two bias rows, shape (2, 3H): row 0 the "
                "input bias, row 1 the recurrent bias (it cannot add them, since r multiplies "
                "only the recurrent part)."
            )
        for name, a, b in zip(("kernel", "recurrent_kernel", "bias"), got, want):
            expect_array(a, b, rtol=0, atol=0, what=f"{name} (D={D}, H={H})")
    return "gates reordered r, z, n -> z, r, h, kernels transposed, and a (2, 3H) bias."


# ---------------------------------------------------------------------------- 08c
@register("ch08.temperature_probs")
def _temperature_probs(temperature_probs: Any) -> str:
    """``temperature_probs(logits, temperature)`` -> probabilities ``softmax(logits / T)`` along
    the last axis, stable for large logits."""
    rng = np.random.default_rng(5)
    cases = [
        (rng.normal(size=6), 1.0),
        (rng.normal(size=(3, 5)), 0.5),
        (np.array([1000.0, 999.0, 0.0]), 0.5),  # exp(2000) overflows float64 without the max shift
        (rng.normal(size=4), 0.05),
    ]
    for logits, T in cases:
        got = call(temperature_probs, logits.copy(), T)
        arr = to_numpy(got, "your probabilities")
        if not np.all(np.isfinite(arr)):
            raise CheckFailed(
                f"non-finite probabilities for logits up to {np.max(logits):g}: subtract the "
                "maximum logit before exponentiating (softmax is unchanged by that shift)."
            )
        want = softmax(logits / T, axis=-1)
        if T != 1 and _close(arr, softmax(logits * T, axis=-1)):
            raise CheckFailed("you multiply the logits by T; divide them: T < 1 sharpens, T > 1 flattens.")
        expect_array(arr, want, rtol=1e-8, atol=1e-12, what=f"temperature_probs at T={T}")
    return "softmax(logits / T): T -> 0 is greedy, T = 1 the model, large T uniform."


@register("ch08.last_valid_state")
def _last_valid_state(last_valid_state: Any) -> str:
    """``last_valid_state(out, lengths)`` -> ``(N, H)``: ``out[n, lengths[n] - 1]`` for a
    batch-first, right-padded output ``out`` (N, T, H)."""
    rng = np.random.default_rng(6)
    for N, T, H in ((4, 6, 3), (1, 1, 2), (5, 7, 1)):
        out = rng.normal(size=(N, T, H))
        lengths = rng.integers(1, T + 1, size=N)
        lengths[0] = T
        got = call(last_valid_state, out.copy(), lengths.copy())
        want = out[np.arange(N), lengths - 1]
        if T > 1 and N > 1 and np.any(lengths < T) and _close(got, out[:, -1]):
            raise CheckFailed(
                "you take the last time step for every sequence; for the shorter ones that state "
                "has read the padding. Use step lengths[n] - 1."
            )
        if T > 1 and _close(got, out[np.arange(N), np.minimum(lengths, T - 1)]):
            raise CheckFailed("off by one: a sequence of length L ends at index L - 1.")
        expect_array(got, want, rtol=0, atol=0, what=f"the last valid states (N={N}, T={T})")
    return "picks each sequence's own last step, as pack_padded_sequence and Keras masking do."


@register("ch08.bigram_nll")
def _bigram_nll(bigram_nll: Any) -> str:
    """``bigram_nll(counts, ids)`` -> mean negative log-likelihood per transition (nats) of the
    index sequences ``ids`` under the add-one-smoothed bigram model ``counts`` (V, V)."""
    rng = np.random.default_rng(7)
    for V in (3, 6):
        counts = rng.integers(0, 5, size=(V, V)).astype(float)
        seqs = [rng.integers(0, V, size=rng.integers(2, 7)).tolist() for _ in range(4)]
        probs = (counts + 1) / (counts + 1).sum(axis=1, keepdims=True)
        pairs = [(a, b) for s in seqs for a, b in itertools.pairwise(s)]
        want = -np.mean([np.log(probs[a, b]) for a, b in pairs])
        got = to_numpy(call(bigram_nll, counts.copy(), [list(s) for s in seqs]), "your NLL")
        unsm = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        with np.errstate(divide="ignore"):
            raw = -np.mean([np.log(unsm[a, b]) for a, b in pairs])
        if np.isinf(got) or (np.isfinite(raw) and np.isclose(got, raw)):
            raise CheckFailed(
                "you used the raw counts: an unseen pair gets probability 0 and NLL infinity; "
                "add one to every count before normalising each row."
            )
        colnorm = (counts + 1) / (counts + 1).sum(axis=0, keepdims=True)
        if np.isclose(got, -np.mean([np.log(colnorm[a, b]) for a, b in pairs])):
            raise CheckFailed("normalise each *row* (the previous character) so that P(next | previous) sums to 1.")
        expect_array(got, want, rtol=1e-8, what=f"the bigram NLL with V={V}")
    return "add-one smoothing, rows normalised, mean over every transition."


@register("ch08.pad_batch")
def _pad_batch(pad_batch: Any) -> str:
    """``pad_batch(seqs)`` -> ``(X, lengths)``: ``X`` (N, L) int, right-padded with 0, ``L`` the
    longest length; ``lengths`` (N,) the original lengths."""
    cases = ([[3, 1, 4], [1, 5], [9, 2, 6, 5]], [[7]], [[2, 2], [3, 3]])
    for seqs in cases:
        got = call(pad_batch, [list(s) for s in seqs])
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(
                f"return a pair (X, lengths): the padded batch and the lengths, got {type(got).__name__}."
            )
        L = max(len(s) for s in seqs)
        want = np.zeros((len(seqs), L), dtype=np.int64)
        left = np.zeros_like(want)
        for r, s in enumerate(seqs):
            want[r, : len(s)] = s
            left[r, L - len(s) :] = s
        if len(seqs) > 1 and len({len(s) for s in seqs}) > 1 and _close(got[0], left.astype(float)):
            raise CheckFailed(
                "you pad on the left; pad on the right (the default of pack_padded_sequence "
                "and of Keras' masking), so that step t of every sequence is at column t."
            )
        expect_array(got[0], want, rtol=0, atol=0, what=f"X for {seqs}")
        expect_array(got[1], np.array([len(s) for s in seqs]), rtol=0, atol=0, what=f"lengths for {seqs}")
    return "right-padded with 0 to the longest sequence, lengths kept for packing or masking."


# ---------------------------------------------------------------------------- 08d
@register("ch08.make_windows")
def _make_windows(make_windows: Any) -> str:
    """``make_windows(series, window)`` -> ``(X (n, window), y (n,))`` with ``n = len(series) - window``:
    ``X[i] = series[i:i+window]`` and ``y[i] = series[i+window]``."""
    for length, window in ((10, 3), (5, 1), (8, 7)):
        s = np.arange(length, dtype=float) ** 1.5
        got = call(make_windows, s.copy(), window)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(
                f"return a pair (X, y): the windows X (n, window) and the next values y (n,), got {type(got).__name__}."
            )
        n = length - window
        X_want = np.stack([s[i : i + window] for i in range(n)])
        y_want = s[window:]
        if to_numpy(got[0]).shape == (n + 1, window):
            raise CheckFailed("one window too many: the last window has no next value to predict.")
        expect_array(got[0], X_want, rtol=0, atol=0, what=f"X for length {length}, window {window}")
        if _close(got[1], s[window - 1 : window - 1 + n]):
            raise CheckFailed("y[i] must be the value *after* the window, series[i + window], not its last value.")
        expect_array(got[1], y_want, rtol=0, atol=0, what=f"y for length {length}, window {window}")
    return "every window paired with the value that follows it; nothing from the future leaks in."


@register("ch08.seasonal_naive")
def _seasonal_naive(seasonal_naive: Any) -> str:
    """``seasonal_naive(history, targets_index, season)``: for one-step forecasts of
    ``series[k]`` for each ``k`` in ``targets_index``, predict ``series[k - season]``."""
    rng = np.random.default_rng(8)
    s = rng.normal(size=40).cumsum()
    for season in (1, 11):
        idx = np.arange(25, 40)
        got = call(seasonal_naive, s.copy(), idx.copy(), season)
        want = s[idx - season]
        if season > 1 and _close(got, s[idx - 1]):
            raise CheckFailed(
                "that is the last-value forecast; the seasonal naive forecast repeats the value "
                "one season ago, series[k - season]."
            )
        if _close(got, s[idx]):
            raise CheckFailed("you return the targets themselves: a forecast may only use the past.")
        expect_array(got, want, rtol=0, atol=0, what=f"seasonal naive with season {season}")
    return "series[k - season]: with season = 1 it is the last-value (persistence) forecast."
