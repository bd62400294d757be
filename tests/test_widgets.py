import ipywidgets as w
import matplotlib.pyplot as plt
import pytest

from course_lib import widgets


def plot_line(ax, slope, colour="C0"):
    ax.plot([0, 1], [0, slope], color=colour)


CONTROLS = {"slope": [-1, 0, 1, 2], "colour": ["C0", "C1"]}


def test_make_widget_has_one_control_per_parameter():
    box = widgets.make_widget(plot_line, CONTROLS, defaults={"slope": 2})
    controls = box.children[0].children
    assert isinstance(controls[0], w.SelectionSlider) and controls[0].value == 2
    assert isinstance(controls[1], w.Dropdown) and controls[1].value == "C1"  # middle value by default
    assert isinstance(box.children[1], w.Output)
    plt.close("all")


def test_sweep_draws_every_value():
    fig = widgets.sweep(plot_line, CONTROLS, vary="slope")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 4
    assert [ax.get_title() for ax in visible] == [f"slope = {v}" for v in CONTROLS["slope"]]
    assert visible[3].lines[0].get_ydata()[1] == 2
    plt.close("all")


def plot_with_result(ax, slope, colour="C0"):
    plot_line(ax, slope, colour)
    ax.set_title(f"slope {slope}: end value {slope * 10}")


def test_sweep_keeps_the_plots_own_titles_when_asked():
    fig = widgets.sweep(plot_with_result, CONTROLS, vary="slope", keep_titles=True)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == [f"slope {v}: end value {v * 10}" for v in CONTROLS["slope"]]
    fig = widgets.sweep(plot_with_result, CONTROLS, vary="slope")  # default: unchanged behaviour
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == [f"slope = {v}" for v in CONTROLS["slope"]]
    fig = widgets.sweep(plot_line, CONTROLS, vary="slope", keep_titles=True)  # no own title: the label
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == [f"slope = {v}" for v in CONTROLS["slope"]]
    plt.close("all")


def test_explore_shows_widget_and_static_figure(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    widgets.explore(plot_line, CONTROLS, vary="slope")
    assert len(shown) == 1 and isinstance(shown[0], w.VBox)
    plt.close("all")


@pytest.mark.parametrize(
    "plot, controls, kwargs, match",
    [
        ("not callable", CONTROLS, {}, "plot must be a function"),
        (plot_line, {}, {}, "non-empty dict"),
        (plot_line, {"slope": [1]}, {}, "at least 2 values"),
        (plot_line, {"slope": "abc"}, {}, "at least 2 values"),
        (plot_line, CONTROLS, {"defaults": {"slope": 5}}, "not one of"),
        (plot_line, CONTROLS, {"defaults": {"angle": 1}}, "unknown controls"),
        (plot_line, CONTROLS, {"vary": "angle"}, "not a control"),
    ],
)
def test_bad_input(plot, controls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        widgets.sweep(plot, controls, **({"vary": "slope"} | kwargs))
