"""How similar the blocks of each frozen backbone are (the paper's Fig. 4).

Over the first ``--num-samples`` videos of a split, every block's output
tokens are averaged per input (frame or audio segment), and every pair of
blocks is compared by linear CKA, debiased linear CKA and, for blocks of
the same width, the mean cosine similarity (see
:mod:`molt.analysis.similarity`). Writes one heat-map PNG per backbone and
all numbers as JSON to ``--out``; ``--suggest K`` prints the K blocks a
heuristic would adapt (:mod:`molt.analysis.layer_suggestion`).

Reads a complete feature cache of the config when it holds every block
asked for; runs the backbones otherwise. Memory does not grow with the
number of samples.

Example::

    python tools/analysis_tools/layer_similarity.py configs/demo/ave_synthetic.py \\
        --split val --num-samples 40 --out work_dirs/layer_similarity --suggest 2
"""
import argparse
import os.path as osp
from typing import List

import torch
from tqdm import tqdm

from molt.analysis.builders import (describe_weights, first_unique_media,
                                    split_dataset, split_loader)
from molt.analysis.export import write_json
from molt.analysis.layer_features import (MODALITIES, backbone_of,
                                          cached_pooled_features,
                                          find_cached_layers, pooled_features)
from molt.analysis.layer_suggestion import (LayerPick, default_candidates,
                                            suggest_layers)
from molt.analysis.similarity import MEASURES, LayerSimilarity
from molt.apis.inference import init_model
from molt.engine.feature_cache import media_key
from molt.models.utils import resolve_layers
from molt.utils import add_runner_arguments, load_config, register_all_modules
from molt.utils.tool_exit import run_tool
from molt.visualization.plots import HeatmapPanel, heatmap_figure, save_figure

MEASURE_TITLES = dict(
    cka='linear CKA', cka_debiased='debiased linear CKA',
    cosine='mean cosine (same-width blocks)')


def layer_spec(items: List[str]) -> list:
    """Command-line layer selection: ints stay ints, names stay names."""
    return [int(item) if item.lstrip('-').isdigit() else item
            for item in items]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--checkpoint', help='a training checkpoint whose (frozen) backbone '
        "weights to read; default: the config's pretrained backbones")
    parser.add_argument('--split', default='val',
                        choices=['train', 'val', 'test'])
    parser.add_argument(
        '--num-samples', type=int, default=100,
        help='videos (distinct media) of the split to read; each gives '
        'one input per frame/segment (default 100)')
    parser.add_argument(
        '--layers', nargs='+', default=['all'],
        help="blocks of each backbone to compare: indices, 'all', 'early', "
        "'mid', 'late' or unions like 'mid+late' (default all)")
    parser.add_argument(
        '--measures', nargs='+', default=['cka', 'cosine'], choices=MEASURES,
        help='heat maps to draw (the JSON always holds all three)')
    parser.add_argument(
        '--suggest', type=int, metavar='K',
        help='print the K blocks per backbone the heuristic would adapt')
    parser.add_argument(
        '--suggest-from', nargs='+',
        help='candidate blocks for --suggest (default: the deeper half)')
    parser.add_argument('--suggest-by', default='cka',
                        choices=['cka', 'cka_debiased'])
    parser.add_argument('--no-cache', action='store_true',
                        help='run the backbones even if a feature cache '
                        'holds the blocks')
    parser.add_argument('--batch-size', type=int,
                        help="videos per batch (default: the split's)")
    parser.add_argument('--device', default=None,
                        help='default: cuda if available, else cpu')
    parser.add_argument('--out', required=True,
                        help='folder for the PNGs and layer_similarity.json')
    add_runner_arguments(parser)
    return parser.parse_args(argv)


def stream_similarities(model, cfg, args, layers) -> dict:
    """Feeds every requested block's pooled outputs into one
    :class:`LayerSimilarity` per backbone; returns them with a note of
    where the features came from."""
    dataset, dataset_cfg = split_dataset(cfg, args.split)
    indices = first_unique_media(dataset, args.num_samples)
    if not indices:
        raise ValueError(f'The {args.split} split of {args.config} is empty.')
    batch_size = args.batch_size or cfg.get(
        f'{args.split}_dataloader')['batch_size']
    store, names, source = (None, {}, '--no-cache') if args.no_cache else \
        find_cached_layers(model, cfg, dataset, dataset_cfg, layers)
    if store is not None:
        keys = [media_key(dataset.get_data_info(i)) for i in indices]
        batches = cached_pooled_features(store, names, keys, batch_size)
    else:
        print(f'Running the backbones ({source}).')
        source = 'backbones run on the split'
        loader = split_loader(cfg, args.split, dataset, indices, batch_size)
        batches = (pooled_features(model, batch, layers) for batch in loader)
    device = next(model.parameters()).device
    accumulators = {
        name: LayerSimilarity(
            [backbone_of(model, name).layer_dims[i] for i in layers[name]],
            device) for name in MODALITIES
    }
    total = -(-len(indices) // batch_size)
    for batch in tqdm(batches, total=total, desc='layer similarity',
                      unit='batch'):
        for name in MODALITIES:
            accumulators[name].update(batch[name])
    return dict(accumulators=accumulators, source=source,
                num_videos=len(indices))


def stage_starts(stages: List[int]) -> List[int]:
    """Positions where a new backbone stage begins (for separators)."""
    return [i for i in range(1, len(stages)) if stages[i] != stages[i - 1]]


def print_suggestion(name: str, backbone, layers: List[int],
                     matrix: torch.Tensor, args) -> List[dict]:
    """Prints and returns the ``--suggest`` picks for one backbone."""
    pool = (resolve_layers(layer_spec(args.suggest_from), backbone.num_layers,
                           '--suggest-from')
            if args.suggest_from else default_candidates(backbone.num_layers))
    outside = sorted(set(pool) - set(layers))
    if outside:
        raise ValueError(f'The --suggest candidates {outside} were not '
                         'compared: include them in --layers, or choose '
                         'candidates among those with --suggest-from.')
    position = {layer: i for i, layer in enumerate(layers)}
    # The matrix is indexed by position in --layers; name blocks instead.
    picks = [
        LayerPick(layers[p.layer], p.redundancy,
                  None if p.closest is None else layers[p.closest])
        for p in suggest_layers(matrix, args.suggest,
                                [position[i] for i in pool])
    ]
    picks = [dict(layer=p.layer, reason=p.reason(args.suggest_by),
                  redundancy=p.redundancy, closest=p.closest) for p in picks]
    chosen = sorted(p['layer'] for p in picks)
    print(f'\n{name} ({type(backbone).__name__}, {backbone.num_layers} '
          f'blocks): suggested blocks to adapt {chosen} (heuristic; '
          f'candidates {pool}, by {args.suggest_by}):')
    for pick in picks:
        stage = backbone.layer_stages[pick['layer']]
        print(f"  block {pick['layer']} (stage {stage}): {pick['reason']}")
    last_two = [i for i in range(backbone.num_layers)[-2:] if i in position]
    if len(last_two) == 2:
        value = float(matrix[position[last_two[0]], position[last_two[1]]])
        print(f'  paper default, the last two blocks {last_two}: '
              f'{args.suggest_by} {value:.3f} between them')
    return picks


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    cfg = load_config(args)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = init_model(cfg, args.checkpoint, device, fallback_split='test')
    cfg = model.cfg  # what the checkpoint learned, filled in
    layers = {
        name: resolve_layers(layer_spec(args.layers),
                             backbone_of(model, name).num_layers, '--layers')
        for name in MODALITIES
    }
    streamed = stream_similarities(model, cfg, args, layers)
    config_name = osp.basename(args.config)
    weights = describe_weights(model, cfg, args.checkpoint)
    report = dict(
        config=args.config, checkpoint=args.checkpoint, split=args.split,
        num_videos=streamed['num_videos'], source=streamed['source'],
        features='each block output averaged over its tokens, one vector '
        'per backbone input (frame or audio segment)',
        backbones={})
    for name in MODALITIES:
        accumulator = streamed['accumulators'][name]
        backbone = backbone_of(model, name)
        results = accumulator.compute()
        chosen = layers[name]
        stages = [backbone.layer_stages[i] for i in chosen]
        dims = [backbone.layer_dims[i] for i in chosen]
        entry = dict(type=type(backbone).__name__, layers=chosen,
                     stages=stages, dims=dims,
                     num_inputs=accumulator.num_examples, **results)
        if accumulator.num_examples < max(dims):
            print(f'Note: {accumulator.num_examples} {name} inputs are fewer '
                  f'than the widest block ({max(dims)} channels); plain '
                  'linear CKA is biased upwards there, read cka_debiased.')
        labels = [str(i) for i in chosen]
        panels = [
            HeatmapPanel(
                results[measure].numpy(), labels, labels,
                title=MEASURE_TITLES[measure], xlabel='block',
                ylabel='block', vmin=min(0.0, float(
                    results[measure].nan_to_num(0).min())), vmax=1.0,
                colorbar_label=measure,
                separators=stage_starts(stages)) for measure in args.measures
        ]
        title = (f'{entry["type"]} ({name} input): similarity of its blocks '
                 f'(white lines: stage boundaries)\n{config_name}, '
                 f'{weights}; {args.split} split, {streamed["num_videos"]} '
                 f'videos, {accumulator.num_examples} inputs, token-averaged')
        png = save_figure(
            heatmap_figure(panels, title),
            osp.join(args.out, f'layer_similarity_{name}.png'))
        print(f'{name}: {png}')
        if args.suggest:
            entry['suggestion'] = print_suggestion(
                name, backbone, chosen, results[args.suggest_by], args)
        report['backbones'][name] = entry
    path = write_json(report, osp.join(args.out, 'layer_similarity.json'))
    print(f'numbers: {path}')
    return report


if __name__ == '__main__':
    run_tool(main)
