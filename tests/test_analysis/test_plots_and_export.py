"""The shared plot helpers and the JSON/CSV writers."""
import csv
import json
import math

import matplotlib
import numpy as np
import torch
from PIL import Image

from molt.analysis.export import write_csv, write_json
from molt.visualization.plots import (Bar, CurvePanel, HeatmapPanel,
                                      HistogramPanel, Series, bar_figure,
                                      curve_figure, heatmap_figure,
                                      histogram_figure, save_figure)


def _png_size(path):
    with Image.open(path) as image:
        assert image.format == 'PNG'
        return image.size


def test_json_and_csv_writers(tmp_path):
    data = dict(matrix=torch.tensor([[1.0, float('nan')]]),
                array=np.array([2, 3]), scalar=np.float32(0.5),
                nested=[dict(x=float('inf'))])
    path = write_json(data, str(tmp_path / 'sub' / 'data.json'))
    assert json.load(open(path)) == dict(
        matrix=[[1.0, None]], array=[2, 3], scalar=0.5, nested=[dict(x=None)])
    path = write_csv(['name', 'value'], [['a', 1.5], ['b', math.nan]],
                     str(tmp_path / 'table.csv'))
    assert list(csv.reader(open(path))) == [['name', 'value'], ['a', '1.5'],
                                           ['b', '']]


def test_figures_render_without_pyplot(tmp_path):
    backend = matplotlib.get_backend()
    matrix = np.array([[1.0, 0.2, np.nan], [0.2, 1.0, 0.5],
                       [np.nan, 0.5, 1.0]])
    heat = heatmap_figure(
        [HeatmapPanel(matrix, list('abc'), list('abc'), title='m',
                      separators=[2]),
         HeatmapPanel(matrix * 0, list('abc'), list('abc'))], 'two panels')
    # Values are written into small heat maps, NaN as n/a.
    texts = [t.get_text() for t in heat.axes[0].texts]
    assert texts.count('n/a') == 2 and '0.50' in texts
    figures = dict(
        heat=heat,
        bars=bar_figure([Bar('x', 50.0, '50', 'g1'), Bar('y', math.nan,
                                                          '', 'g2')],
                        'bars', 'accuracy (%)', ylim=(0, 110)),
        curves=curve_figure([CurvePanel([Series('run', [1, 2], [3, 1])],
                                        xlabel='epoch')], 'curves'),
        hist=histogram_figure([HistogramPanel([10, 20, 90],
                                              np.linspace(0, 100, 11))],
                              'hist'))
    for name, fig in figures.items():
        path = save_figure(fig, str(tmp_path / f'{name}.png'))
        width, height = _png_size(path)
        assert width > 300 and height > 200
    assert matplotlib.get_backend() == backend  # global state untouched
