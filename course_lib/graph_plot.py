"""Draw a small computational graph of :class:`course_lib.autograd.Value` nodes (chapter 3).

Each node is a box showing its name and operation, its value (``data``) and its gradient
(``grad``); arrows go from inputs to the node computed from them. Chapter 3 uses it to step
through a backward pass: :func:`draw_graph` can highlight the node whose local chain rule just
ran and the inputs it sent gradient to.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from course_lib.autograd import Value
from course_lib.plotting import OKABE_ITO

MAX_NODES = 40


def layout(root: Value) -> dict[int, tuple[float, float]]:
    """``{id(node): (x, y)}``: x grows from inputs to ``root``, y spreads the leaves.

    A node's column is one more than its deepest input; a leaf sits one column left of the
    first node that uses it. Leaves get rows in the order the graph reaches them; every other
    node sits at the mean row of its inputs.

    Introduced in chapter 3.
    """
    if not isinstance(root, Value):
        raise ValueError(f"root must be a Value, got {type(root).__name__}")
    order = root.topological_order()
    if len(order) > MAX_NODES:
        raise ValueError(f"the graph has {len(order)} nodes; draw_graph is for small graphs (<= {MAX_NODES}).")
    depth: dict[int, int] = {}
    for v in order:
        depth[id(v)] = 1 + max((depth[id(c)] for c in v._prev), default=-1)
    users: dict[int, list[int]] = {}
    for v in order:
        for c in v._prev:
            users.setdefault(id(c), []).append(id(v))
    x = {
        id(v): float(min(depth[u] for u in users[id(v)]) - 1 if not v._prev and id(v) in users else depth[id(v)])
        for v in order
    }
    y: dict[int, float] = {}
    row = 0
    for v in order:
        if not v._prev:
            y[id(v)] = -float(row)
            row += 1
        else:
            y[id(v)] = sum(y[id(c)] for c in v._prev) / len(v._prev)
    return {k: (x[k], y[k]) for k in x}


def _name(v: Value) -> str:
    if v._op and v.label:
        return f"{v.label} = {v._op}"
    return v.label or v._op or "const"


def draw_graph(
    root: Value, ax: Axes | None = None, active: Value | None = None, title: str | None = None, fontsize: float = 7.5
) -> Axes:
    """Draw the graph that computes ``root`` with every node's ``data`` and ``grad``.

    ``active`` (optional) is the node whose ``_backward`` just ran: it is outlined in orange and
    the arrows to its inputs, along which it sent gradient, are drawn in orange.

    Introduced in chapter 3.
    """
    pos = layout(root)
    if ax is None:
        ax = plt.subplots(figsize=(7, 4))[1]
    w, h = 0.86, 0.8
    order = root.topological_order()
    for v in order:
        for c in v._prev:
            hot = active is not None and v is active
            (x0, y0), (x1, y1) = pos[id(c)], pos[id(v)]
            ax.add_patch(
                FancyArrowPatch(
                    (x0 + w / 2, y0),
                    (x1 - w / 2, y1),
                    arrowstyle="-|>",
                    mutation_scale=8,
                    color=OKABE_ITO[1] if hot else "0.6",
                    lw=2.2 if hot else 0.9,
                    shrinkA=0,
                    shrinkB=0,
                    zorder=1,
                )
            )
    for v in order:
        x0, y0 = pos[id(v)]
        is_active = active is not None and v is active
        face = "#DCEBF5" if v.grad != 0.0 else "white"
        ax.add_patch(
            FancyBboxPatch(
                (x0 - w / 2, y0 - h / 2),
                w,
                h,
                boxstyle="round,pad=0.02",
                facecolor=face,
                edgecolor=OKABE_ITO[1] if is_active else "0.3",
                lw=2.2 if is_active else 0.8,
                zorder=2,
            )
        )
        ax.text(
            x0,
            y0,
            f"{_name(v)}\ndata {v.data:.3g}\ngrad {v.grad:.3g}",
            ha="center",
            va="center",
            fontsize=fontsize,
            zorder=3,
            family="monospace",
        )
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
    ax.set_ylim(min(ys) - 0.5, max(ys) + 0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("forward: left to right; backward: right to left", fontsize=fontsize + 1)
    if title:
        ax.set_title(title)
    return ax
