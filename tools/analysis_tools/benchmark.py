"""Benchmarks configs side by side against the frozen-inference floor.

For each config (random weights, no data needed) it measures, on the same
synthetic batch: trainable/total parameters, peak memory over the measured
steps (CUDA max allocated; on CPU the peak resident memory of a child
process less its bare runtime, see ``molt/utils/benchmark.py``), median
training-step time and samples/s; and once per distinct set of backbones
the floor (the same backbones, forward only, no_grad). Prints a table with
each config's ratio to its floor and writes JSON. With ``--cached``, each
parallel scheme is also timed fed from the frozen-feature cache.

Example::

    python tools/analysis_tools/benchmark.py configs/molt/ave_swin_htsat.py \
        configs/lavish/ave_swin_htsat.py --batch-size 4 --device cuda

``--cfg-options`` changes every config alike (e.g. the AVQA heads'
vocabulary sizes, which a config leaves to the training data); the merged
configs are measured.
"""
import argparse
import json
import os
import os.path as osp
import tempfile
import time
from typing import Optional

import torch
from mmengine.config import Config, DictAction

from molt.utils import register_all_modules
from molt.utils.benchmark import (BenchmarkError, device_name,
                                  measure_in_child)
from molt.utils.tool_exit import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+', metavar='CONFIG')
    parser.add_argument('--batch-size', type=int, default=1,
                        help='videos per step')
    parser.add_argument('--segments', type=int, default=10,
                        help='frames (and audio clips) per video')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--amp', action='store_true',
                        help='bf16 autocast for every scheme')
    parser.add_argument('--iters', type=int, default=5,
                        help='timed steps (median reported)')
    parser.add_argument('--warmup', type=int, default=2,
                        help='untimed steps first')
    parser.add_argument(
        '--cached', action='store_true',
        help='also time each parallel scheme fed from the feature cache')
    parser.add_argument('--out', default='work_dirs/benchmark.json',
                        help='JSON output file')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help='key=value overrides for every config, e.g. '
        'model.head.num_answers=42 model.head.vocab_size=93')
    return parser.parse_args(argv)


def merged_configs(configs, options: dict, out_dir: str) -> dict:
    """``{config: path measured}``: the configs themselves, or with
    ``options`` merged, written under ``out_dir``."""
    if not options:
        return {config: config for config in configs}
    paths = {}
    for index, config in enumerate(configs):
        cfg = Config.fromfile(config)
        cfg.merge_from_dict(options)
        path = osp.join(out_dir, f'{index}_{osp.basename(config)}')
        cfg.dump(path)
        paths[config] = path
    return paths


def backbone_key(config: str) -> str:
    """Configs with equal backbones and inputs share one floor."""
    cfg = Config.fromfile(config)
    model = cfg.model
    parts = [model.get(k) for k in ('visual_backbone', 'audio_backbone',
                                    'audio_frontend')]
    return json.dumps([p.to_dict() if hasattr(p, 'to_dict') else p
                       for p in parts] +
                      [cfg.train_dataloader.dataset.pipeline],
                      sort_keys=True, default=str)


def _is_parallel(config: str) -> bool:
    from molt.registry import MODELS
    adapter = Config.fromfile(config).model.adapter
    return MODELS.get(adapter.type).is_parallel


def format_table(rows) -> str:
    """One line per row; CPU rows also show the raw peak resident set."""
    with_rss = all('peak_rss_mb' in row for row in rows if 'error' not in row)
    header = (f'{"config":<40}{"train M":>9}{"total M":>9}{"peak MB":>10}'
              f'{"x floor":>8}' + (f'{"RSS MB":>9}' if with_rss else '') +
              f'{"step ms":>10}{"x floor":>8}{"samples/s":>11}')
    lines = [header, '-' * len(header)]
    for row in rows:
        if 'error' in row:
            lines.append(f'{row["name"]:<40}failed: {row["error"]}')
            continue
        mem_ratio = row.get('mem_ratio')
        time_ratio = row.get('time_ratio')
        lines.append(
            f'{row["name"]:<40}{row["trainable_params"] / 1e6:>9.2f}'
            f'{row["total_params"] / 1e6:>9.2f}{row["peak_mem_mb"]:>10.0f}'
            f'{"" if mem_ratio is None else f"{mem_ratio:.2f}":>8}' +
            (f'{row["peak_rss_mb"]:>9.0f}' if with_rss else '') +
            f'{row["median_step_ms"]:>10.1f}'
            f'{"" if time_ratio is None else f"{time_ratio:.2f}":>8}'
            f'{row["samples_per_s"]:>11.2f}')
    return '\n'.join(lines)


def _measure(config: str, kind: str, common: tuple,
             floor: Optional[dict]) -> dict:
    """One measurement with its ratios to ``floor``; a failed one (e.g. a
    process killed for lack of memory) becomes a row with ``error``, so
    the other configs are still measured."""
    try:
        row = measure_in_child(config, kind, *common)
    except BenchmarkError as error:
        print(error)
        return dict(config=config, kind=kind, error=str(error))
    row['config'] = config
    if floor is not None:
        row['floor'] = floor['name']
        if 'error' not in floor:
            row['mem_ratio'] = row['peak_mem_mb'] / floor['peak_mem_mb']
            row['time_ratio'] = (row['median_step_ms'] /
                                 floor['median_step_ms'])
    return row


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device is available.')
    common = (args.batch_size, args.segments, args.device, args.amp,
              args.iters, args.warmup)
    floors, rows = {}, []
    with tempfile.TemporaryDirectory() as merged_dir:
        paths = merged_configs(args.configs, args.cfg_options, merged_dir)
        for config, path in paths.items():
            rows.extend(_measure_config(config, path, args, common, floors))
    result = dict(
        device=args.device,
        device_name=device_name(args.device),
        torch=torch.__version__,
        batch_size=args.batch_size,
        segments=args.segments,
        amp=args.amp,
        iters=args.iters,
        cfg_options=args.cfg_options,
        date=time.strftime('%Y-%m-%d'),
        rows=rows)
    print(f'{result["device_name"]}, batch {args.batch_size} x '
          f'{args.segments} segments, {"bf16" if args.amp else "fp32"}')
    print(format_table(rows))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
        print(f'written to {args.out}')
    return result


def _measure_config(config: str, path: str, args, common: tuple,
                    floors: dict) -> list:
    """The rows of one config (measured from ``path``): its floor when its
    backbones are new, training, and with ``--cached`` the cached step."""
    rows = []
    key = backbone_key(path)
    if key not in floors:
        floors[key] = _measure(path, 'floor', common, None)
        floors[key]['name'] = f'floor ({osp.basename(config)})'
        rows.append(floors[key])
    name = osp.splitext(osp.relpath(config, 'configs'))[0]
    row = _measure(path, 'train', common, floors[key])
    row.update(name=name, config=config)
    rows.append(row)
    if args.cached and _is_parallel(path):
        cached = _measure(path, 'cached', common, floors[key])
        cached.update(name=f'{name} (cached)', config=config)
        if 'error' not in cached and 'error' not in row:
            cached['speedup_vs_online'] = (row['median_step_ms'] /
                                           cached['median_step_ms'])
        rows.append(cached)
    return rows


if __name__ == '__main__':
    run_tool(main)
