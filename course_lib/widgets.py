"""Widgets that are live in Jupyter/Colab and still say something on the static site.

Introduced in chapter 0. The one pattern of the course: write a function that draws one
picture, ``plot(ax, **params)``, and hand it to :func:`explore` with the values each control
can take. :func:`explore` shows

1. a live widget (sliders/dropdowns + the picture, redrawn on every change). The book build
   embeds its state, so the static page shows the controls and the picture at the defaults;
2. below it, a *small-multiples* figure: the same picture for every value of one control
   (``sweep``), so a reader of the static site sees what moving that control does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt

from course_lib.plotting import small_multiples

PlotFn = Callable[..., None]


def _validate(plot: PlotFn, controls: Mapping[str, Sequence[Any]], defaults: Mapping[str, Any]) -> dict[str, Any]:
    if not callable(plot):
        raise ValueError("plot must be a function plot(ax, **params) that draws on the Axes it is given")
    if not isinstance(controls, Mapping) or not controls:
        raise ValueError("controls must be a non-empty dict {name: [value, value, ...]}")
    for name, values in controls.items():
        if not isinstance(values, Sequence) or isinstance(values, str) or len(values) < 2:
            raise ValueError(f"controls[{name!r}] must be a list of at least 2 values, got {values!r}")
    unknown = set(defaults) - set(controls)
    if unknown:
        raise ValueError(f"defaults for unknown controls {sorted(unknown)}; controls are {list(controls)}")
    chosen = {name: values[len(values) // 2] for name, values in controls.items()}
    for name, value in defaults.items():
        if value not in controls[name]:
            raise ValueError(f"default {name}={value!r} is not one of controls[{name!r}] = {list(controls[name])}")
        chosen[name] = value
    return chosen


def sweep(
    plot: PlotFn,
    controls: Mapping[str, Sequence[Any]],
    vary: str,
    defaults: Mapping[str, Any] | None = None,
    ncols: int = 3,
    panel_size: tuple[float, float] = (3.2, 2.6),
    title: str | None = None,
    keep_titles: bool = False,
) -> plt.Figure:
    """Small multiples: ``plot`` once per value of control ``vary``, others at their defaults.

    Each panel is titled ``"vary = value"``; with ``keep_titles=True`` a title that ``plot`` set
    itself (e.g. one that reports a final value; it should then name the value too) is kept, and
    only panels without one get ``"vary = value"``.

    Introduced in chapter 2.
    """
    chosen = _validate(plot, controls, defaults or {})
    if vary not in controls:
        raise ValueError(f"vary={vary!r} is not a control; choose from {list(controls)}")
    values = list(controls[vary])
    fig, axes = small_multiples(len(values), ncols=ncols, panel_size=panel_size)
    for ax, value in zip(axes, values):
        plot(ax, **{**chosen, vary: value})
        own = ax.get_title() if keep_titles else ""
        ax.set_title(own or f"{vary} = {value}", fontsize=9 if own else 10)
    if title:
        fig.suptitle(title)
    return fig


def make_widget(
    plot: PlotFn,
    controls: Mapping[str, Sequence[Any]],
    defaults: Mapping[str, Any] | None = None,
    figsize: tuple[float, float] = (6.4, 4.0),
) -> Any:
    """The live widget for ``plot(ax, **params)``: one control per entry of ``controls``
    (numbers become a slider, anything else a dropdown) above the redrawn picture.

    Returns an ``ipywidgets.VBox`` (not yet displayed).

    Introduced in chapter 0.
    """
    import ipywidgets as w

    chosen = _validate(plot, controls, defaults or {})
    inputs: dict[str, Any] = {}
    for name, values in controls.items():
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        if numeric:
            inputs[name] = w.SelectionSlider(
                options=list(values), value=chosen[name], description=name, continuous_update=False
            )
        else:
            inputs[name] = w.Dropdown(options=list(values), value=chosen[name], description=name)

    def draw(**params: Any) -> None:
        fig, ax = plt.subplots(figsize=figsize)
        plot(ax, **params)
        plt.show()

    out = w.interactive_output(draw, inputs)
    return w.VBox([w.HBox(list(inputs.values())), out])


def explore(
    plot: PlotFn,
    controls: Mapping[str, Sequence[Any]],
    vary: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    figsize: tuple[float, float] = (6.4, 4.0),
    static: bool = True,
    **sweep_kw: Any,
) -> None:
    """Display the live widget for ``plot(ax, **params)`` and, if ``static``, its small multiples.

    ``vary`` names the control swept in the static figure (default: the first control);
    ``sweep_kw`` goes to :func:`sweep` (``ncols``, ``panel_size``, ``title``, ``keep_titles``).

    Introduced in chapter 0.
    """
    from IPython.display import display

    display(make_widget(plot, controls, defaults, figsize))
    if static:
        sweep(plot, controls, vary or next(iter(controls)), defaults=defaults, **sweep_kw)
        plt.show()
