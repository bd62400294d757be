"""Data tables of exercise answers, one module per chapter, consumed by ``tests/test_checkers.py``.

Each ``chNN.py`` defines two lists (see ``test_checkers.py`` for how a chapter adds its table):

- ``PASS``: ``(exercise name, answer)``; the reference solution first, then other correct answers
  that must also pass (a composed version, tensors instead of arrays ...);
- ``FAIL``: ``(exercise name, answer, hint)``; a typical wrong answer, and a fragment its "failed"
  message must contain (the hint that names the mistake).

No tests here: the modules are data, so a chapter's table is read at a glance.
"""
