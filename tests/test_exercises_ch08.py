"""Chapter 8 checkers: what does not fit the table in tests/exercise_cases/ch08.py (see tests/test_checkers.py)."""

import numpy as np
import torch
from exercise_cases.ch08 import bptt_dh

from course_lib.exercises import PASSED, check


def test_bptt_reference_is_autograd():
    """The hand-derived BPTT in the table (and the checker) equals PyTorch's dL/dh_t for L = sum_t g_t . h_t."""
    rng = np.random.default_rng(0)
    T, N, D, H = 6, 2, 3, 4
    x, g = rng.normal(size=(T, N, D)), rng.normal(size=(T, N, H))
    W_ih, W_hh = torch.tensor(rng.normal(size=(H, D)) * 0.5), torch.tensor(rng.normal(size=(H, H)) * 0.6)
    W_hh.requires_grad_()  # so that every h_t is part of the graph
    h, hs, pre = torch.zeros(N, H, dtype=torch.float64), [], []
    for t in range(T):
        a = torch.tensor(x[t]) @ W_ih.T + h @ W_hh.T
        h = torch.tanh(a)
        h.retain_grad()
        hs.append(h)
        pre.append(a.detach().numpy())
    sum((hs[t] * torch.tensor(g[t])).sum() for t in range(T)).backward()
    want = np.stack([h.grad.numpy() for h in hs])
    np.testing.assert_allclose(bptt_dh(g, np.stack(pre), W_hh.detach().numpy()), want, rtol=1e-10, atol=1e-12)
    assert check("ch08.bptt_dh", bptt_dh).status == PASSED
