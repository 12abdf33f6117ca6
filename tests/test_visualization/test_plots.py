"""The figure helpers: what they draw is what they were given."""
import pytest

from molt.visualization.plots import (CurvePanel, Point, Series,
                                      curve_figure, scatter_figure)


def test_scatter_puts_each_point_with_its_error_bar_and_label():
    points = [Point('MoLT', 1.0, 99.5, 0.5), Point('DG-SCT', 6.8, 100.0)]
    fig = scatter_figure(points, 'title', 'memory', 'accuracy')
    (ax, ) = fig.axes
    assert [t.get_text() for t in ax.texts] == ['MoLT', 'DG-SCT']
    # One marker line per point, at its coordinates.
    markers = [line for line in ax.lines if line.get_marker() == 'o']
    assert [tuple(m.get_xydata()[0]) for m in markers] == [(1.0, 99.5),
                                                           (6.8, 100.0)]
    # MoLT's error bar spans y ± yerr.
    bars = [c for c in ax.collections if len(c.get_segments())]
    (segment, ) = bars[0].get_segments()
    assert segment[:, 1].tolist() == pytest.approx([99.0, 100.0])
    assert ax.get_xlabel() == 'memory' and ax.get_ylabel() == 'accuracy'


def test_curve_series_keep_their_colour_and_style():
    series = [Series('a', [0, 1], [1, 2], color='C3', linestyle='--')]
    (ax, ) = curve_figure([CurvePanel(series)], 'title').axes
    (line, ) = ax.lines
    assert line.get_linestyle() == '--' and line.get_color() == 'C3'
