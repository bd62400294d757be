import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib import plotting


def test_style_uses_colour_blind_safe_cycle():
    plotting.use_style()
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    assert [c.upper() for c in colours] == list(plotting.OKABE_ITO)


def test_learning_curves_draws_each_series():
    ax = plotting.learning_curves({"train": [3, 2, 1], "validation": [3, 2.5, 2]})
    assert len(ax.lines) == 2
    assert ax.lines[1].get_linestyle() == "--"
    assert list(ax.lines[0].get_xdata()) == [1, 2, 3]
    plt.close("all")


@pytest.mark.parametrize("bad", [{}, {"train": []}, {"train": [[1, 2], [3, 4]]}, [1, 2]])
def test_learning_curves_bad_input(bad):
    with pytest.raises(ValueError):
        plotting.learning_curves(bad)


def test_decision_boundary_shades_and_scatters():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 1, 1, 0])
    ax = plotting.decision_boundary(lambda g: (g[:, 1] > 0.5).astype(float), X, y, resolution=20)
    assert len(ax.collections) >= 2
    plt.close("all")


def test_decision_boundary_bad_shapes():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plotting.decision_boundary(lambda g: g[:, 0], np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="y must have shape"):
        plotting.decision_boundary(lambda g: g[:, 0], np.zeros((4, 2)), np.zeros(3))


def test_small_multiples_hides_unused_panels():
    fig, axes = plotting.small_multiples(4, ncols=3)
    assert len(axes) == 4 and len(fig.axes) == 6
    assert sum(ax.get_visible() for ax in fig.axes) == 4
    with pytest.raises(ValueError):
        plotting.small_multiples(0)
    plt.close("all")
