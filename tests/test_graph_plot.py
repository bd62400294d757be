"""course_lib.graph_plot: layout and drawing of small Value graphs."""

import matplotlib.pyplot as plt
import pytest

from course_lib.autograd import Value
from course_lib.graph_plot import MAX_NODES, draw_graph, layout


def _graph():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    d = (c + a).tanh()
    return a, b, c, d


def test_layout_puts_inputs_left_of_outputs():
    a, b, c, d = _graph()
    pos = layout(d)
    assert len(pos) == 5
    assert pos[id(a)][0] < pos[id(c)][0] < pos[id(d)][0]
    assert pos[id(b)][0] < pos[id(c)][0]


def test_draw_graph_shows_data_and_grad():
    a, b, c, d = _graph()
    d.backward()
    fig, ax = plt.subplots()
    draw_graph(d, ax=ax, active=c, title="t")
    texts = [t.get_text() for t in ax.texts]
    assert any("c = *" in t and "grad" in t for t in texts)
    assert ax.get_title() == "t"
    plt.close(fig)


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError, match="Value"):
        layout(1.0)
    x = Value(1.0)
    y = x
    for _ in range(MAX_NODES):
        y = y + 1.0
    with pytest.raises(ValueError, match="small graphs"):
        draw_graph(y)
