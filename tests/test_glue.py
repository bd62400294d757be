import numpy as np
import pytest

from course_lib.glue import glue


def test_glue_converts_numpy_scalars(monkeypatch):
    seen = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: seen.update({name: value}))
    glue("acc", np.float32(0.5))
    glue("n", np.int64(3))
    glue("z", np.array(2.0))
    assert seen == {"acc": 0.5, "n": 3, "z": 2.0}
    assert type(seen["acc"]) is float and type(seen["n"]) is int and type(seen["z"]) is float


def test_glue_returns_none_so_a_last_line_glue_displays_nothing(monkeypatch):
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: None)
    assert glue("acc", 0.5) is None


@pytest.mark.parametrize("name", ["", "1abc", "a-b", None])
def test_glue_bad_name(name):
    with pytest.raises(ValueError, match="identifiers"):
        glue(name, 1.0)
