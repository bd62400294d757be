"""One colour-blind-safe plotting style and the plots several chapters share.

Introduced in chapter 0; :func:`learning_curves` and :func:`decision_boundary` are used from
chapter 2 on. Every function draws on a Matplotlib ``Axes`` it is given (or creates one) and
returns that ``Axes``, so plots compose into small multiples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap

from course_lib.validation import positive_int

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency. Black is kept out of the cycle and used for reference lines.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
)

STYLE: dict[str, Any] = {
    "axes.prop_cycle": cycler(color=OKABE_ITO),
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.frameon": False,
    "image.cmap": "viridis",  # perceptually uniform and colour-blind safe
    "figure.constrained_layout.use": True,
    "animation.html": "jshtml",
    "animation.embed_limit": 8.0,  # MB; small multiples are preferred to big animations
}


def use_style() -> None:
    """Apply the course style to Matplotlib's global ``rcParams`` (idempotent). Introduced in chapter 0."""
    mpl.rcParams.update(STYLE)  # type: ignore[arg-type]  # rcParams' stubs list every key as a Literal


def _axes(ax: Axes | None) -> Axes:
    return plt.subplots()[1] if ax is None else ax


def learning_curves(
    history: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    title: str | None = None,
) -> Axes:
    """Plot training and validation curves.

    ``history`` maps a label (e.g. ``"train"``, ``"validation"``) to a sequence of values, one
    per epoch; all sequences must be non-empty. Validation-like labels are drawn dashed.

    Introduced in chapter 0.
    """
    if not isinstance(history, Mapping) or not history:
        raise ValueError("history must be a non-empty dict like {'train': [...], 'validation': [...]}")
    ax = _axes(ax)
    for label, values in history.items():
        y = np.asarray(values, dtype=float)
        if y.ndim != 1 or y.size == 0:
            raise ValueError(f"history[{label!r}] must be a non-empty 1-D sequence, got shape {y.shape}")
        style = "--" if label.lower().startswith(("val", "test")) else "-"
        ax.plot(np.arange(1, y.size + 1), y, style, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


def decision_boundary(
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    ax: Axes | None = None,
    resolution: int = 200,
    title: str | None = None,
) -> Axes:
    """Shade the regions a 2-D classifier assigns to each class, with the data on top.

    ``predict`` maps an ``(M, 2)`` array to ``M`` class labels or positive-class probabilities;
    ``X`` is ``(N, 2)`` and ``y`` is ``(N,)`` with integer labels.

    Introduced in chapter 2.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2) for a 2-D decision boundary, got {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    if not isinstance(resolution, int) or resolution < 10:
        raise ValueError(f"resolution must be an int >= 10, got {resolution!r}")
    ax = _axes(ax)
    pad = 0.5
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.c_[gx.ravel(), gy.ravel()]
    z = np.asarray(predict(grid), dtype=float).reshape(gx.shape)
    classes = np.unique(y)
    cmap = ListedColormap([OKABE_ITO[i % len(OKABE_ITO)] for i in range(max(len(classes), 2))])
    if len(classes) <= 2:
        lo, hi = min(z.min(), 0.5) - 1.0, max(z.max(), 0.5) + 1.0
        ax.contourf(gx, gy, z, levels=[lo, 0.5, hi], cmap=cmap, alpha=0.25)
        ax.contour(gx, gy, z, levels=[0.5], colors="k", linewidths=1)
    else:
        ax.contourf(gx, gy, z, levels=np.arange(len(classes) + 1) - 0.5, cmap=cmap, alpha=0.25)
    for i, c in enumerate(classes):
        m = y == c
        ax.scatter(
            X[m, 0],
            X[m, 1],
            s=12,
            color=OKABE_ITO[i % len(OKABE_ITO)],
            edgecolor="white",
            linewidth=0.3,
            label=f"class {c}",
        )
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper right")
    return ax


def small_multiples(
    n: int, ncols: int = 3, panel_size: tuple[float, float] = (3.2, 2.6), **subplot_kw: Any
) -> tuple[plt.Figure, list[Axes]]:
    """A figure with ``n`` panels in a grid of ``ncols`` columns; unused panels are hidden. Introduced in chapter 2."""
    n = positive_int("n", n, hint="It is the number of panels.")
    ncols = positive_int("ncols", ncols)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows), squeeze=False, **subplot_kw
    )
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]
