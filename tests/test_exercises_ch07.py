"""Chapter 7 checkers: what does not fit the table in tests/exercise_cases/ch07.py (see tests/test_checkers.py)."""

from course_lib.exercises import NOT_ATTEMPTED, check


class _StubLoss:
    """A loss object whose call is still the stub."""

    def __call__(self, y, p):
        raise NotImplementedError()


def test_loss_object_that_is_a_stub_is_not_attempted():
    assert check("ch07.keras_loss_for", lambda output, labels: _StubLoss()).status == NOT_ATTEMPTED
