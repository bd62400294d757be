"""Chapter 5 checkers: what does not fit the table in tests/exercise_cases/ch05.py (see tests/test_checkers.py)."""

from __future__ import annotations

import numpy as np
from exercise_cases.ch05 import adam_step

from course_lib import optim


def test_adam_reference_answer_is_the_library_step():
    """The table's reference is course_lib.optim.Adam: resuming it at step t equals running it."""
    rng = np.random.default_rng(0)
    w, grads = rng.normal(size=3), rng.normal(size=(5, 3))
    opt = optim.Adam([w.copy()], lr=0.1)
    m, v, x = np.zeros(3), np.zeros(3), w.copy()
    for t, g in enumerate(grads, start=1):
        opt.step([g])
        x, m, v = adam_step(x, m, v, g, t, 0.1, 0.9, 0.999, 1e-8)
    np.testing.assert_allclose(x, opt.params[0], rtol=1e-12)
