"""Matplotlib figures for the analysis tools: heat maps, bars, curves,
histograms.

Figures are built with matplotlib's object API (:class:`Figure`, no
``pyplot``), so nothing depends on or changes the global backend and
nothing opens a window: :func:`save_figure` renders with Agg. Each
``*_figure`` function takes one or more panels (small dataclasses holding
the data and its labels) and a title, and returns the figure; the tools
name the config and checkpoint in the title.
"""
import math
import os
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = [
    'HeatmapPanel', 'Series', 'CurvePanel', 'HistogramPanel', 'Bar',
    'Point', 'heatmap_figure', 'bar_figure', 'curve_figure',
    'histogram_figure', 'scatter_figure', 'save_figure'
]

# Heat maps up to this many rows/columns get their values written in.
MAX_ANNOTATED_CELLS = 12
NAN_COLOR = '#d9d9d9'


@dataclass
class HeatmapPanel:
    """One heat map.

    Attributes:
        matrix: ``(R, C)`` values; NaN cells are drawn grey ("not defined").
        row_labels: ``R`` tick labels (top to bottom).
        col_labels: ``C`` tick labels (left to right).
        title: Panel title.
        xlabel: Label of the column axis.
        ylabel: Label of the row axis.
        vmin: Lower end of the colour scale (default: the data's minimum).
        vmax: Upper end of the colour scale (default: the data's maximum).
        cmap: Matplotlib colour map name.
        colorbar_label: Label of the colour bar.
        separators: Draw a line before these row/column indices (e.g.
            where a backbone stage starts).
        annotate: Write the values in the cells; default when the matrix
            is at most ``MAX_ANNOTATED_CELLS`` wide and tall.
        fmt: Format of the written values.
    """
    matrix: np.ndarray
    row_labels: Sequence[str]
    col_labels: Sequence[str]
    title: str = ''
    xlabel: str = ''
    ylabel: str = ''
    vmin: Optional[float] = None
    vmax: Optional[float] = None
    cmap: str = 'viridis'
    colorbar_label: str = ''
    separators: Sequence[int] = ()
    annotate: Optional[bool] = None
    fmt: str = '{:.2f}'


@dataclass
class Series:
    """One line of a curve panel: ``label``, ``x`` and ``y`` values, and
    optionally a matplotlib ``color`` and ``linestyle`` (e.g. to pair the
    lines of one group)."""
    label: str
    x: Sequence[float]
    y: Sequence[float]
    color: Optional[str] = None
    linestyle: str = '-'


@dataclass
class CurvePanel:
    """A panel of lines sharing axes."""
    series: List[Series]
    title: str = ''
    xlabel: str = ''
    ylabel: str = ''


@dataclass
class HistogramPanel:
    """A histogram of ``values`` over ``bins`` (edges), with its mean
    marked."""
    values: Sequence[float]
    bins: Sequence[float]
    title: str = ''
    xlabel: str = ''
    ylabel: str = 'count'


@dataclass
class Bar:
    """One bar: its label, height (NaN: no bar, "n/a" written), the text
    written above it and the legend group it is coloured by."""
    label: str
    value: float
    note: str = ''
    group: str = ''


@dataclass
class Point:
    """One labelled point of a scatter plot, with an optional vertical
    error bar ``yerr`` (e.g. the std over seeds)."""
    label: str
    x: float
    y: float
    yerr: float = 0.0


def _grid(num_panels: int, panel_size: Tuple[float, float],
          max_cols: int) -> Tuple[Figure, List[Axes]]:
    cols = min(num_panels, max_cols)
    rows = math.ceil(num_panels / cols)
    fig = Figure(figsize=(panel_size[0] * cols, panel_size[1] * rows),
                 layout='constrained')
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[num_panels:]:
        ax.set_visible(False)
    return fig, axes[:num_panels]


def _tick_fontsize(count: int) -> int:
    return 9 if count <= 12 else 7 if count <= 30 else 5


def _text_color(image, value: float) -> str:
    """Black or white, whichever reads better on the cell's colour."""
    if not np.isfinite(value):
        return 'black'
    red, green, blue, _ = image.cmap(image.norm(value))
    return 'white' if 0.299 * red + 0.587 * green + 0.114 * blue < 0.5 \
        else 'black'


def _draw_heatmap(fig: Figure, ax: Axes, panel: HeatmapPanel) -> None:
    matrix = np.asarray(panel.matrix, dtype=float)
    finite = matrix[np.isfinite(matrix)]
    vmin = panel.vmin if panel.vmin is not None else (
        finite.min() if finite.size else 0)
    vmax = panel.vmax if panel.vmax is not None else (
        finite.max() if finite.size else 1)
    cmap = matplotlib.colormaps[panel.cmap].with_extremes(bad=NAN_COLOR)
    image = ax.imshow(np.ma.masked_invalid(matrix), cmap=cmap, vmin=vmin,
                      vmax=vmax, interpolation='nearest', aspect='auto')
    colorbar = fig.colorbar(image, ax=ax, shrink=0.85)
    if panel.colorbar_label:
        colorbar.set_label(panel.colorbar_label)
    rows, cols = matrix.shape
    ax.set_xticks(range(cols), labels=list(panel.col_labels),
                  fontsize=_tick_fontsize(cols), rotation=90 if cols > 12
                  or max(map(len, panel.col_labels), default=0) > 4 else 0)
    ax.set_yticks(range(rows), labels=list(panel.row_labels),
                  fontsize=_tick_fontsize(rows))
    for index in panel.separators:
        ax.axhline(index - 0.5, color='white', linewidth=1.5)
        ax.axvline(index - 0.5, color='white', linewidth=1.5)
    annotate = panel.annotate if panel.annotate is not None else max(
        rows, cols) <= MAX_ANNOTATED_CELLS
    if annotate:
        for (r, c), value in np.ndenumerate(matrix):
            text = 'n/a' if not np.isfinite(value) else panel.fmt.format(
                value)
            ax.text(c, r, text, ha='center', va='center', fontsize=8,
                    color=_text_color(image, value))
    xlabel = panel.xlabel
    if not np.isfinite(matrix).all():
        xlabel = f'{xlabel}\n(grey: not defined)'.strip()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(panel.ylabel)
    ax.set_title(panel.title, fontsize=11)


def heatmap_figure(panels: Sequence[HeatmapPanel], title: str,
                   panel_size: Tuple[float, float] = (6.0, 5.0),
                   max_cols: int = 3) -> Figure:
    """Heat maps side by side (wrapping after ``max_cols``)."""
    fig, axes = _grid(len(panels), panel_size, max_cols)
    for ax, panel in zip(axes, panels):
        _draw_heatmap(fig, ax, panel)
    fig.suptitle(title, fontsize=11)
    return fig


def bar_figure(bars: Sequence[Bar], title: str, ylabel: str,
               ylim: Optional[Tuple[float, float]] = None,
               size: Tuple[float, float] = (10.0, 5.0)) -> Figure:
    """One bar per entry, coloured by group (legend when there are
    groups), with each bar's note written above it."""
    fig = Figure(figsize=size, layout='constrained')
    ax = fig.subplots()
    groups = list(dict.fromkeys(bar.group for bar in bars))
    palette = [f'C{i}' for i in range(10)]
    for index, bar in enumerate(bars):
        missing = not math.isfinite(bar.value)
        height = 0.0 if missing else bar.value
        ax.bar(index, height, color=palette[groups.index(bar.group) % 10],
               label=bar.group or None)
        note = 'n/a' if missing else bar.note
        ax.annotate(note, (index, height), xytext=(0, 3),
                    textcoords='offset points', ha='center', va='bottom',
                    fontsize=8)
    ax.set_xticks(range(len(bars)), labels=[bar.label for bar in bars],
                  rotation=30, ha='right', fontsize=9)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if any(groups):
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles))
        ax.legend(unique.values(), unique.keys(), fontsize=9,
                  loc='upper left', bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis='y', alpha=0.3)
    ax.set_axisbelow(True)
    fig.suptitle(title, fontsize=11)
    return fig


def curve_figure(panels: Sequence[CurvePanel], title: str,
                 panel_size: Tuple[float, float] = (7.0, 3.2)) -> Figure:
    """Curve panels stacked vertically, one line per series."""
    fig, axes = _grid(len(panels), panel_size, max_cols=1)
    for ax, panel in zip(axes, panels):
        for series in panel.series:
            ax.plot(series.x, series.y, label=series.label,
                    color=series.color, linestyle=series.linestyle,
                    marker='o' if len(series.x) <= 30 else None,
                    markersize=3)
        ax.set_title(panel.title, fontsize=10)
        ax.set_xlabel(panel.xlabel)
        ax.set_ylabel(panel.ylabel)
        ax.grid(alpha=0.3)
        if len(panel.series) > 1:
            ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    return fig


def histogram_figure(panels: Sequence[HistogramPanel], title: str,
                     panel_size: Tuple[float, float] = (5.0, 3.8)) -> Figure:
    """Histograms side by side, each with its mean as a dashed line."""
    fig, axes = _grid(len(panels), panel_size, max_cols=len(panels))
    for ax, panel in zip(axes, panels):
        values = np.asarray(panel.values, dtype=float)
        ax.hist(values, bins=panel.bins, color='C0', edgecolor='white')
        if values.size:
            mean = values.mean()
            ax.axvline(mean, color='C3', linestyle='--',
                       label=f'mean {mean:.1f}')
            ax.legend(fontsize=8, loc='upper left')
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts
        ax.set_title(panel.title, fontsize=10)
        ax.set_xlabel(panel.xlabel)
        ax.set_ylabel(panel.ylabel)
    fig.suptitle(title, fontsize=11)
    return fig


def scatter_figure(points: Sequence[Point], title: str, xlabel: str,
                   ylabel: str, size: Tuple[float, float] = (7.0, 4.5)
                   ) -> Figure:
    """Labelled points with their error bars (e.g. accuracy against
    memory, one point per method, as the papers' efficiency plots)."""
    fig = Figure(figsize=size, layout='constrained')
    ax = fig.subplots()
    for index, point in enumerate(points):
        ax.errorbar(point.x, point.y, yerr=point.yerr, fmt='o',
                    color=f'C{index % 10}', capsize=3)
        # Labels alternate above and below, so close points stay legible.
        ax.annotate(point.label, (point.x, point.y),
                    xytext=(5, 5 if index % 2 == 0 else -13),
                    textcoords='offset points', fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=11)
    return fig


def save_figure(fig: Figure, path: str, dpi: int = 100) -> str:
    """Renders ``fig`` to ``path`` (PNG with Agg; the folder is created).

    Returns:
        ``path``.
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path
