import numpy as np
import pytest

from course_lib.glue import glue


def test_glue_converts_numpy_scalars(monkeypatch):
    seen = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: seen.update({name: value}))
    assert glue("acc", np.float32(0.5)) == 0.5
    assert type(seen["acc"]) is float
    assert type(glue("n", np.int64(3))) is int
    assert type(glue("z", np.array(2.0))) is float


@pytest.mark.parametrize("name", ["", "1abc", "a-b", None])
def test_glue_bad_name(name):
    with pytest.raises(ValueError, match="identifiers"):
        glue(name, 1.0)
