"""The paper's Tables 1-3 (and its ablations) in miniature.

Trains every adapter scheme on the same synthetic task with the same
budget and several seeds, tests the validation-selected checkpoint of each
run, and reports side by side: test accuracy (mean ± std over seeds),
trainable parameters, and peak training memory and step time relative to
MoLT (measured with ``molt/utils/benchmark.py`` on the same batch). Writes
the table (Markdown), a JSON file and a plot.

Examples::

    python tools/analysis_tools/compare_schemes.py                 # AVE, 3 seeds
    python tools/analysis_tools/compare_schemes.py --seeds 0 --epochs 2
    python tools/analysis_tools/compare_schemes.py --study stage   # Tab. 4
    python tools/analysis_tools/compare_schemes.py --task avs

The scheme configs are ``configs/demo/<task>_synthetic[_<scheme>].py``:
the task's MoLT demo with the scheme's model override from
``configs/_base_/models/demo_schemes.py``.

Every run is ``tools/train.py`` then ``tools/test.py`` in a child process
(``WORK_DIR/<variant>/seed<N>/``); a run whose test result exists is not
repeated and a run stopped by a signal resumes from its checkpoint, so an
interrupted comparison continues where it stopped. Each
variant's merged config is written once to ``WORK_DIR/<variant>/config.py``.

The schemes that read the backbones in parallel (MoLT, Mettle-style, the
floor) train from a feature cache that the seeds of a variant share
(``WORK_DIR/<variant>/feature_cache``, half precision, filled by the first
seed's first epoch); the sequential ones (LAVisH, DG-SCT, AVMoE) cannot,
and run their backbones every step. ``--no-cache`` runs every scheme
without it.
"""
import argparse
import json
import os
import os.path as osp
import re
import signal
import statistics
import subprocess
import sys
from typing import Dict, List, Tuple

from mmengine.config import Config, DictAction
from tqdm import tqdm

from molt.registry import MODELS
from molt.utils import register_all_modules
from molt.utils.benchmark import measure_in_child
from molt.utils.tool_exit import run_tool
from molt.visualization.plots import (Bar, Point, bar_figure, save_figure,
                                      scatter_figure)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: Per task: the demo config of each scheme, the data, the test metric.
TASKS = {
    'ave': dict(prefix='configs/demo/ave_synthetic', data='data/ave_synthetic',
                metric='ave/accuracy'),
    'avs': dict(prefix='configs/demo/avs_synthetic', data='data/avs_synthetic',
                metric='avs/jaccard'),
    'avqa': dict(prefix='configs/demo/avqa_synthetic',
                 data='data/avqa_synthetic', metric='avqa/Overall'),
}
SCHEMES = ('molt', 'mettle', 'lavish', 'dgsct', 'avmoe', 'floor')

#: The ablations in miniature (MoLT's demo config with one change each):
#: the paper's Tab. 4 (stage), number of UDAs/CDAs, fusion, TOR, latents.
STUDIES: Dict[str, Dict[str, List[str]]] = {
    'stage': {
        f'stage {stage}': [f'model.adapter.visual_layers={stage}',
                           f'model.adapter.audio_layers={stage}']
        for stage in ('early', 'mid', 'late', 'early+late', 'mid+late',
                      'early+mid+late')
    },
    'adapters': {
        f'{uda} UDA + {cda} CDA': [f'model.adapter.num_uda={uda}',
                                   f'model.adapter.num_cda={cda}']
        for uda, cda in ((1, 1), (1, 2), (2, 1), (2, 2))
    },
    'fusion': {
        name: [f'model.fusion.type={fusion}']
        for name, fusion in (('MLP (TFM)', 'MLPTokenFusion'),
                             ('average', 'AvgTokenFusion'),
                             ('gates', 'GatedTokenFusion'))
    },
    'tor': {'TOR on': [], 'TOR off': ['model.tor_loss=None']},
    'latents': {
        f'{n} latent tokens': [f'model.adapter.num_latents={n}']
        for n in (2, 4, 6, 8)
    },
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--task', choices=sorted(TASKS), default='ave')
    parser.add_argument(
        '--study', choices=('schemes', *STUDIES), default='schemes',
        help='the schemes side by side, or one ablation of MoLT')
    parser.add_argument('--schemes', nargs='+', choices=SCHEMES,
                        default=list(SCHEMES))
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--epochs', type=int,
                        help="training epochs of every run (default: the "
                        "demo config's)")
    parser.add_argument('--data-root', help='the synthetic set (default: '
                        "data/<task>_synthetic, written if missing)")
    parser.add_argument('--work-dir', help='default: '
                        'work_dirs/compare_schemes/<task>_<study>')
    parser.add_argument('--no-cache', action='store_true',
                        help='run the parallel schemes without the feature '
                        'cache too')
    parser.add_argument('--no-efficiency', action='store_true',
                        help='skip the memory and step-time measurement')
    parser.add_argument('--bench-batch-size', type=int, default=2,
                        help='videos per measured training step')
    return parser.parse_args(argv)


def variants(args) -> Dict[str, Tuple[str, List[str]]]:
    """``{name: (config, extra --cfg-options)}`` of the chosen study."""
    prefix = TASKS[args.task]['prefix']
    if args.study == 'schemes':
        return {
            scheme: (f'{prefix}{"" if scheme == "molt" else "_" + scheme}.py',
                     [])
            for scheme in args.schemes
        }
    return {name: (f'{prefix}.py', options)
            for name, options in STUDIES[args.study].items()}


def _run(command: List[str], log: str) -> None:
    """Runs one child tool; a SIGTERM to this process is passed on to it
    (``tools/train.py`` then saves a resumable checkpoint) and this tool
    stops once the child has."""
    with open(log, 'w') as f, subprocess.Popen(
            command, cwd=REPO, stdout=f,
            stderr=subprocess.STDOUT) as child:
        previous = signal.signal(
            signal.SIGTERM, lambda signum, _: child.send_signal(signum))
        try:
            returncode = child.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)
    if returncode in (-signal.SIGTERM, 128 + signal.SIGTERM):
        raise SystemExit(
            f'Stopped by SIGTERM during {" ".join(command[1:3])} (log: '
            f'{log}); run the same command again to go on: finished runs '
            'are not repeated and a stopped one resumes.')
    if returncode != 0:
        with open(log) as f:
            tail = ''.join(f.readlines()[-15:])
        raise RuntimeError(f'{" ".join(command[1:3])} failed (exit '
                           f'{returncode}); log: {log}\n{tail}')


def train_and_test(config: str, seed: int, options: List[str],
                   work_dir: str, metric: str) -> float:
    """One run: train, then test the validation-selected checkpoint;
    returns the test metric (read back from ``result.json`` if done)."""
    result_file = osp.join(work_dir, 'result.json')
    if osp.isfile(result_file):
        with open(result_file) as f:
            return json.load(f)[metric]
    python = sys.executable
    os.makedirs(osp.dirname(work_dir), exist_ok=True)
    # A run stopped by a signal left a resumable checkpoint: go on from it.
    resume = (['--resume'] if osp.isfile(
        osp.join(work_dir, 'last_checkpoint')) else [])
    _run([python, 'tools/train.py', config, '--work-dir', work_dir, *resume,
          '--cfg-options', f'randomness.seed={seed}', *options],
         work_dir + '.train.log')
    best = sorted(name for name in os.listdir(work_dir)
                  if name.startswith('best_'))
    if not best:
        raise RuntimeError(f'{work_dir}: training wrote no best checkpoint '
                           '(is validation configured?)')
    checkpoint = osp.join(work_dir, best[-1])
    test_log = work_dir + '.test.log'
    _run([python, 'tools/test.py', config, checkpoint, '--work-dir',
          work_dir, '--cfg-options', *options], test_log)
    with open(test_log) as f:
        found = re.findall(rf'{re.escape(metric)}: ([0-9.]+)', f.read())
    if not found:
        raise RuntimeError(f'no {metric} in {test_log}')
    value = float(found[-1])
    with open(result_file, 'w') as f:
        json.dump({metric: value, 'checkpoint': checkpoint}, f)
    return value


def output_dir(args) -> str:
    """Where the runs and the comparison go (absolute: the runs' child
    processes work from the repository root)."""
    return osp.abspath(args.work_dir or osp.join(
        'work_dirs', 'compare_schemes', f'{args.task}_{args.study}'))


def _data_options(args, data_root: str) -> List[str]:
    options = [f'{split}_dataloader.dataset.data_root={data_root}'
               for split in ('train', 'val', 'test')]
    if args.epochs is not None:
        options.append(f'train_cfg.max_epochs={args.epochs}')
    return options


def _ensure_data(task: str, data_root: str) -> None:
    if osp.isdir(data_root):
        return
    task_name = 'avs_s4' if task == 'avs' else task
    os.makedirs(osp.dirname(data_root), exist_ok=True)
    _run([sys.executable, 'tools/dataset_converters/make_synthetic.py',
          '--task', task_name, '--out', data_root], data_root + '.log')


def _mean_std(values: List[float]) -> Tuple[float, float]:
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else 0.0)


def merged_config(config: str, options: List[str], cached: bool,
                  work_dir: str) -> str:
    """Writes ``config`` with ``options`` merged to ``work_dir/config.py``
    and returns its path. With ``cached``, a scheme that reads the
    backbones in parallel gets the feature cache in
    ``work_dir/feature_cache`` (its runs read the same blocks of the same
    data, so they share the stores)."""
    cfg = Config.fromfile(osp.join(REPO, config))
    if options:
        parser = argparse.ArgumentParser()
        parser.add_argument('--options', nargs='+', action=DictAction)
        cfg.merge_from_dict(parser.parse_args(['--options',
                                               *options]).options)
    # The tool decides about the cache, not the demo config (the AVQA demo
    # brings its own FeatureCacheHook): none without ``cached``, one per
    # variant with it.
    hooks = [h for h in cfg.get('custom_hooks', [])
             if h['type'] != 'FeatureCacheHook']
    if cached and MODELS.get(cfg.model.adapter.type).is_parallel:
        hooks.append(
            dict(type='FeatureCacheHook',
                 cache_dir=osp.join(work_dir, 'feature_cache')))
    cfg.custom_hooks = hooks
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, 'config.py')
    cfg.dump(path)
    return path


def efficiency(config: str, batch_size: int) -> dict:
    """Parameters, peak training memory and step time of one variant's
    merged config (random weights, one synthetic batch through the
    backbones, the benchmark's child process)."""
    return measure_in_child(config, 'train', batch_size, 10, 'cpu', False, 3,
                            1)


def format_table(rows: List[dict], metric: str, reference: str) -> str:
    """The Markdown table of :func:`compare` rows."""
    lines = [
        f'| variant | {metric} (mean ± std) | seeds | trainable params '
        f'| peak train memory (x {reference}) | step time (x {reference}) |',
        '|---|---|---|---|---|---|'
    ]
    for row in rows:
        eff = row.get('efficiency')
        memory = (f"{eff['peak_mem_mb']:.0f} MB "
                  f"({row['memory_ratio']:.2f}x)" if eff else 'n/a')
        step = (f"{eff['median_step_ms']:.0f} ms ({row['time_ratio']:.2f}x)"
                if eff else 'n/a')
        params = f"{eff['trainable_params'] / 1e3:.1f} K" if eff else 'n/a'
        lines.append(f"| {row['name']} | {row['mean']:.2f} ± {row['std']:.2f}"
                     f" | {len(row['scores'])} | {params} | {memory} | {step} |")
    return '\n'.join(lines)


def compare(args) -> List[dict]:
    """Runs every variant and seed; returns one row per variant."""
    task = TASKS[args.task]
    data_root = osp.abspath(args.data_root or task['data'])
    work_dir = output_dir(args)
    _ensure_data(args.task, data_root)
    register_all_modules()
    merged = {
        name: merged_config(config, extra, not args.no_cache,
                            osp.join(work_dir, re.sub(r'\W+', '_', name)))
        for name, (config, extra) in variants(args).items()
    }
    # Seed by seed, so that an interrupted comparison has every variant.
    runs = [(name, seed) for seed in args.seeds for name in merged]
    scores: Dict[str, List[float]] = {name: [] for name in merged}
    for name, seed in tqdm(runs, desc='training runs', unit='run'):
        run_dir = osp.join(osp.dirname(merged[name]), f'seed{seed}')
        scores[name].append(
            train_and_test(merged[name], seed, _data_options(args, data_root),
                           run_dir, task['metric']))
    rows = []
    for name, values in scores.items():
        mean, std = _mean_std(values)
        config, options = variants(args)[name]
        rows.append(dict(name=name, config=config, options=options,
                         merged_config=merged[name], scores=values,
                         mean=mean, std=std))
    if not args.no_efficiency:
        for row in tqdm(rows, desc='memory and step time', unit='config'):
            row['efficiency'] = efficiency(row['merged_config'],
                                           args.bench_batch_size)
        base = rows[0]['efficiency']
        for row in rows:
            eff = row['efficiency']
            row['memory_ratio'] = eff['peak_mem_mb'] / base['peak_mem_mb']
            row['time_ratio'] = eff['median_step_ms'] / base['median_step_ms']
    return rows


def plot(rows: List[dict], metric: str, path: str) -> str:
    """Accuracy (mean ± std over seeds) against peak training memory
    relative to the first row, one point per variant; bars of the
    accuracy alone without the efficiency measurement."""
    if all('memory_ratio' in row for row in rows):
        points = [Point(row['name'], row['memory_ratio'], row['mean'],
                        row['std']) for row in rows]
        fig = scatter_figure(
            points, f'{metric} (mean ± std over seeds) against memory',
            f"peak training memory (x {rows[0]['name']})", metric)
    else:
        bars = [Bar(row['name'], row['mean'],
                    f"{row['mean']:.1f}±{row['std']:.1f}", group='accuracy')
                for row in rows]
        fig = bar_figure(bars, f'{metric}: mean ± std over seeds', metric)
    return save_figure(fig, path)


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    rows = compare(args)
    metric = TASKS[args.task]['metric']
    table = format_table(rows, metric, rows[0]['name'])
    print(table)
    work_dir = output_dir(args)
    with open(osp.join(work_dir, 'comparison.json'), 'w') as f:
        json.dump(dict(task=args.task, study=args.study, seeds=args.seeds,
                       epochs=args.epochs, rows=rows), f, indent=2)
    with open(osp.join(work_dir, 'comparison.md'), 'w') as f:
        f.write(table + '\n')
    print(f"Wrote {plot(rows, metric, osp.join(work_dir, 'comparison.png'))}"
          f" and {osp.join(work_dir, 'comparison.json')}")
    return rows


if __name__ == '__main__':
    run_tool(main)
