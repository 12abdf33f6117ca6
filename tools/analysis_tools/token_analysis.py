"""What a MoLT model's layer-wise tokens, router and fusion learned (the
paper's Fig. 5).

Runs one or two checkpoints of a MoLT config (a ``MoLTAdapter`` and a
token fusion; the Mettle-style configs are MoLTAdapters too) over the
first ``--num-samples`` samples of a split, as in testing, and draws per
modality, one panel per checkpoint:

* ``router_weights``: the router weight of every adapter (``UDA 1, ...,
  CDA 1, ...``) of every selected layer, averaged over the backbone inputs
  (one frame and its one-second audio segment each); a layer with one
  adapter has weight 1;
* ``fusion_weights``: the token fusion's weight of every layer, averaged
  likewise; uniform for ``AvgTokenFusion``;
* ``token_similarity``: the mean absolute cosine similarity between all
  layer-wise tokens of a modality, the matrix ``C`` the token-orthogonality
  loss (TOR) pushes towards the identity, computed as that loss computes
  it; two checkpoints (e.g. trained with and without TOR) side by side;
* ``{router,fusion}_weights_by_class`` (AVE: the ground-truth class of each
  segment) or ``..._by_question_type`` (MUSIC-AVQA: the question type of
  each sample): rows are classes or types, columns layer x adapter (or
  layer x token).

Each PNG has its numbers beside it as JSON (with every sample's weights,
averaged over its segments) and CSV.

The paper's Fig. 5, as issue 14 describes it (the figure itself was not
available to us), shows the router weights per layer and adapter, the
token-fusion weights per layer and the similarity of the layer-wise tokens
with and without TOR. This tool draws split averages (and per-class/type
breakdowns) where the paper may show single examples, and the similarity
as the mean ``|cosine|`` of Eq. 8's ``C`` (the JSON also holds the signed
mean and every sample's weights); see docs/en/analysis_tools.md.

Example::

    python tools/analysis_tools/token_analysis.py configs/demo/ave_synthetic.py \\
        work_dirs/tor/best.pth work_dirs/notor/best.pth --labels 'TOR on' \\
        'TOR off' --split val --out work_dirs/token_analysis
"""
import argparse
import os.path as osp
from typing import List, Sequence

import numpy as np
import torch
from tqdm import tqdm

from molt.analysis.builders import split_dataset, split_loader
from molt.analysis.export import write_csv, write_json
from molt.analysis.layer_features import MODALITIES
from molt.analysis.token_statistics import (TokenStatistics,
                                            check_molt_config, label_names,
                                            read_batch)
from molt.apis.inference import init_model
from molt.utils import add_runner_arguments, load_config, register_all_modules
from molt.utils.tool_exit import run_tool
from molt.visualization.plots import HeatmapPanel, heatmap_figure, save_figure

#: Up to this many layer-wise tokens per modality, the similarity is drawn
#: token by token; beyond, as layer-pair means (the JSON holds both).
MAX_DRAWN_TOKENS = 24
GROUP_TITLES = {'class': 'ground-truth class (AVE segments)',
                'question_type': 'question type (MUSIC-AVQA)'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file path (a MoLTAdapter)')
    parser.add_argument('checkpoints', nargs='+', metavar='CHECKPOINT',
                        help='one or two training checkpoints of the '
                        'config (two: e.g. with and without TOR)')
    parser.add_argument('--labels', nargs='+',
                        help='a name per checkpoint for the panels '
                        "(default: the shortest distinct path tails)")
    parser.add_argument('--split', default='val',
                        choices=['train', 'val', 'test'])
    parser.add_argument('--num-samples', type=int,
                        help='the first N samples of the split (default: '
                        'all)')
    parser.add_argument('--batch-size', type=int,
                        help="samples per batch (default: the split's)")
    parser.add_argument('--device', default=None,
                        help='default: cuda if available, else cpu')
    parser.add_argument('--out', required=True,
                        help='folder for the PNG, JSON and CSV files')
    add_runner_arguments(parser)
    args = parser.parse_args(argv)
    if len(args.checkpoints) > 2:
        parser.error('give one or two checkpoints')
    if args.num_samples is not None and args.num_samples < 1:
        parser.error('--num-samples must be at least 1')
    if args.labels and len(args.labels) != len(args.checkpoints):
        parser.error(f'--labels needs {len(args.checkpoints)} names, one '
                     'per checkpoint')
    return args


def checkpoint_labels(paths: Sequence[str]) -> List[str]:
    """The shortest path tails that tell the checkpoints apart."""
    parts = [osp.normpath(p).split(osp.sep) for p in paths]
    for depth in range(1, max(map(len, parts)) + 1):
        tails = ['/'.join(p[-depth:]) for p in parts]
        if len(set(tails)) == len(tails):
            return tails
    return [f'{tail} (#{i + 1})' for i, tail in enumerate(tails)]


def analyse_checkpoint(cfg, checkpoint: str, label: str, args,
                       device: str) -> dict:
    """Runs one checkpoint over the split; returns its
    :meth:`TokenStatistics.summary` plus ``label``, ``checkpoint`` and
    ``fusion`` (the fusion's type)."""
    model = init_model(cfg, checkpoint, device, fallback_split='test')
    cfg = model.cfg  # what the checkpoint learned, filled in
    dataset, _ = split_dataset(cfg, args.split)
    count = len(dataset) if args.num_samples is None else min(
        args.num_samples, len(dataset))
    if count == 0:
        raise ValueError(f'The {args.split} split of {args.config} is '
                         'empty; choose another --split.')
    loader = split_loader(cfg, args.split, dataset, list(range(count)),
                          args.batch_size)
    statistics = TokenStatistics(model.adapter, label_names(dataset.metainfo))
    for batch in tqdm(loader, desc=f'token analysis ({label})',
                      unit='batch'):
        statistics.add(read_batch(model, batch))
    return dict(statistics.summary(), label=label, checkpoint=checkpoint,
                fusion=type(model.visual_fusion).__name__)


def weight_columns(run: dict, quantity: str) -> List[str]:
    """Names of a weight matrix's columns: the adapters (router) or
    ``per layer`` (fusion: one weight per layer)."""
    return run['adapters'] if quantity == 'router' else ['per layer']


#: What a weight matrix's columns are, in axis labels and CSV headers.
COLUMN_KINDS = dict(router='adapter', fusion='token')


def subtitle(runs: List[dict], args) -> str:
    """The title's last lines: config, checkpoints; split, sizes."""
    run = runs[0]
    names = ', '.join(
        f"{r['label']} = {osp.basename(r['checkpoint'])}" if args.labels
        else r['label'] for r in runs)
    return (f'{osp.basename(args.config)}; checkpoint{"s" * (len(runs) > 1)} '
            f'{names}\n'
            f"{args.split} split, {run['num_samples']} samples x "
            f"{run['segments_per_sample']} segments = {run['num_inputs']} "
            'inputs')


def save_plot(panels: List[HeatmapPanel], title: str, name: str, runs,
              args, panel_size) -> str:
    """Draws the panels (modalities as rows, checkpoints as columns)."""
    fig = heatmap_figure(panels, f'{title}\n{subtitle(runs, args)}',
                         panel_size=panel_size, max_cols=len(runs))
    return save_figure(fig, osp.join(args.out, f'{name}.png'))


def header(runs: List[dict], args) -> dict:
    """What every JSON starts with."""
    return dict(config=args.config, split=args.split,
                checkpoints=[r['checkpoint'] for r in runs],
                labels=[r['label'] for r in runs],
                num_samples=runs[0]['num_samples'],
                num_inputs=runs[0]['num_inputs'],
                segments_per_sample=runs[0]['segments_per_sample'])


def draw_weights(runs: List[dict], quantity: str, args) -> str:
    """``router_weights`` or ``fusion_weights``: (layer, adapter|token)
    heat maps, JSON with every sample's weights, CSV of the means."""
    panels, rows, data = [], [], []
    for name in MODALITIES:
        for run in runs:
            entry = run['modalities'][name]
            matrix = entry[quantity].numpy()
            columns = weight_columns(run, quantity)
            layers = [f'block {layer}' for layer in entry['layers']]
            panels.append(HeatmapPanel(
                matrix, layers, columns, title=f"{name}, {run['label']}",
                xlabel=f"{COLUMN_KINDS[quantity]} ({run['fusion']})"
                if quantity == 'fusion' else COLUMN_KINDS[quantity],
                ylabel='layer',
                vmin=0.0, vmax=1.0, cmap='magma',
                colorbar_label=f'mean {quantity} weight'))
            rows += [[run['label'], name, layer, column, value]
                     for layer, values in zip(entry['layers'], matrix)
                     for column, value in zip(columns, values)]
    for run in runs:
        data.append(dict(
            label=run['label'], fusion=run['fusion'],
            columns=weight_columns(run, quantity),
            modalities={
                name: dict(layers=run['modalities'][name]['layers'],
                           mean=run['modalities'][name][quantity])
                for name in MODALITIES
            },
            samples=[{
                **{k: v for k, v in s.items()
                   if not k.endswith(('_router', '_fusion'))},
                **{name: s[f'{name}_{quantity}'] for name in MODALITIES}
            } for s in run['samples']]))
    what = ('Router weight of each adapter of each layer (UDA: uni-modal, '
            'CDA: cross-modal)' if quantity == 'router' else
            'Token-fusion weight of each layer (sums to 1 over the layers)')
    num_layers = len(runs[0]['modalities']['visual']['layers'])
    png = save_plot(panels, f'{what}, mean over the inputs',
                    f'{quantity}_weights', runs, args,
                    (max(4.5, 1.1 * panels[0].matrix.shape[1] + 2.5),
                     max(3.0, 0.45 * num_layers + 2.0)))
    write_csv(['checkpoint', 'modality', 'layer',
               COLUMN_KINDS[quantity], 'weight'],
              rows, osp.join(args.out, f'{quantity}_weights.csv'))
    write_json(dict(header(runs, args), runs=data),
               osp.join(args.out, f'{quantity}_weights.json'))
    return png


def similarity_panel(name: str, run: dict) -> HeatmapPanel:
    """Mean |C| token by token (white lines between layers), or, with
    more than :data:`MAX_DRAWN_TOKENS` tokens, per pair of layers (mean
    over distinct tokens; on the diagonal, within a layer)."""
    entry = run['modalities'][name]
    layers, num_tokens = entry['layers'], entry['num_tokens']
    title = (f"{name}, {run['label']}: mean ||C - I||² = "
             f"{entry['tor_unweighted']:.2f}")
    style = dict(title=title, vmin=0.0, vmax=1.0, cmap='viridis',
                 colorbar_label='mean |cosine|')
    if len(layers) * num_tokens > MAX_DRAWN_TOKENS:
        labels = [f'block {layer}' for layer in layers]
        return HeatmapPanel(
            entry['layer_abs_cosine'].numpy(), labels, labels,
            xlabel='layer (mean over pairs of distinct tokens)',
            ylabel='layer', **style)
    labels = [f'{layer}.{t + 1}' for layer in layers
              for t in range(num_tokens)]
    return HeatmapPanel(
        entry['abs_cosine'].numpy(), labels, labels,
        xlabel='layer-wise token (block.token)', ylabel='layer-wise token',
        separators=list(range(num_tokens, len(labels), num_tokens)),
        **style)


def draw_similarity(runs: List[dict], args) -> str:
    """``token_similarity``: mean |cosine| between layer-wise tokens."""
    panels, rows = [], []
    for name in MODALITIES:
        for run in runs:
            entry = run['modalities'][name]
            panels.append(similarity_panel(name, run))
            layers = entry['layers']
            rows += [[run['label'], name, a, b,
                      float(entry['layer_abs_cosine'][i, j]),
                      float(entry['tor_by_layer'][i, j])]
                     for i, a in enumerate(layers)
                     for j, b in enumerate(layers)]
    size = max(5.0, 0.3 * len(panels[0].row_labels) + 3.0)
    png = save_plot(
        panels, 'Similarity of the layer-wise tokens, what TOR acts on '
        '(||C - I||²: the TOR loss without its weight)',
        'token_similarity', runs, args, (size + 1.0, size))
    write_csv(['checkpoint', 'modality', 'layer_a', 'layer_b',
               'mean_abs_cosine_distinct_tokens', 'tor_term'], rows,
              osp.join(args.out, 'token_similarity.csv'))
    keys = ('layers', 'num_tokens', 'cosine', 'abs_cosine',
            'layer_abs_cosine', 'tor_by_layer', 'tor_unweighted')
    write_json(dict(
        header(runs, args),
        runs=[dict(label=run['label'], modalities={
            name: {k: run['modalities'][name][k] for k in keys}
            for name in MODALITIES
        }) for run in runs]), osp.join(args.out, 'token_similarity.json'))
    return png


def draw_breakdown(runs: List[dict], quantity: str, args) -> str:
    """``<quantity>_weights_by_<group kind>``: groups x (layer, column)."""
    kind = runs[0]['group_kind']
    panels, rows = [], []
    for name in MODALITIES:
        for run in runs:
            entry = run['modalities'][name]
            groups = entry['groups']
            columns = weight_columns(run, quantity)
            cells = [f'{layer}: {column}' if len(columns) > 1 else
                     f'block {layer}' for layer in entry['layers']
                     for column in columns]
            matrix = np.stack([g[quantity].reshape(-1).numpy()
                               for g in groups.values()])
            panels.append(HeatmapPanel(
                matrix, [f"{g} (n={v['inputs']})" for g, v in groups.items()],
                cells, title=f"{name}, {run['label']}",
                xlabel=f'block: {COLUMN_KINDS[quantity]}',
                vmin=0.0, vmax=1.0, cmap='magma',
                colorbar_label=f'mean {quantity} weight'))
            rows += [[run['label'], name, group, values['inputs'], layer,
                      column, float(weight)]
                     for group, values in groups.items()
                     for layer, row in zip(entry['layers'],
                                           values[quantity].numpy())
                     for column, weight in zip(columns, row)]
    num_groups = len(panels[0].row_labels)
    stem = f'{quantity}_weights_by_{kind}'
    png = save_plot(
        panels, f'Mean {quantity} weights per {GROUP_TITLES[kind]}',
        stem, runs, args,
        (max(6.0, 0.55 * len(panels[0].col_labels) + 5.0),
         max(3.5, 0.32 * num_groups + 2.5)))
    write_csv(['checkpoint', 'modality', kind, 'inputs', 'layer',
               COLUMN_KINDS[quantity], 'weight'],
              rows, osp.join(args.out, f'{stem}.csv'))
    write_json(dict(header(runs, args), group_kind=kind, runs=[
        dict(label=run['label'], modalities={
            name: dict(layers=run['modalities'][name]['layers'],
                       groups={
                           group: dict(inputs=values['inputs'],
                                       weights=values[quantity])
                           for group, values in
                           run['modalities'][name]['groups'].items()
                       })
            for name in MODALITIES
        }) for run in runs
    ]), osp.join(args.out, f'{stem}.json'))
    return png


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    cfg = load_config(args)
    check_molt_config(cfg, args.config)
    for checkpoint in args.checkpoints:  # before the first one runs
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(
                f'Checkpoint not found: {checkpoint}; give the .pth files '
                'tools/train.py wrote (e.g. work_dirs/<run>/best_*.pth).')
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    labels = args.labels or checkpoint_labels(args.checkpoints)
    runs = [
        analyse_checkpoint(cfg, checkpoint, label, args, device)
        for checkpoint, label in zip(args.checkpoints, labels)
    ]
    pngs = [draw_weights(runs, 'router', args),
            draw_weights(runs, 'fusion', args),
            draw_similarity(runs, args)]
    if runs[0]['group_kind']:
        if len(runs[0]['adapters']) > 1:
            pngs.append(draw_breakdown(runs, 'router', args))
        if all(run['fusion'] == 'MLPTokenFusion' for run in runs):
            pngs.append(draw_breakdown(runs, 'fusion', args))
    for png in pngs:
        print(f'{png} (numbers: {osp.splitext(png)[0]}.json, .csv)')
    return runs


if __name__ == '__main__':
    run_tool(main)
