"""Fills the frozen-feature cache of a config ahead of training.

Runs the frozen backbones over the chosen splits once and writes the
tapped features (and stage maps for dense heads) where the
``FeatureCacheHook`` of the same config will read them. Resumable: only
missing rows are computed (a complete store is skipped). Several processes
share the work (``--launcher pytorch`` under torchrun, or ``slurm``).

Example::

    python tools/extract_features.py configs/demo/ave_synthetic_cached.py
    torchrun --nproc_per_node 8 tools/extract_features.py CONFIG \
        --launcher pytorch --amp --batch-size 16
"""
import argparse

import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from molt.engine.feature_cache import (NO_AUTOCAST, CacheSettings,
                                       amp_autocast, collate_function,
                                       fill_store, prepare_feature_cache)
from molt.registry import DATASETS
from molt.utils import add_runner_arguments, load_config, register_all_modules
from molt.utils.dataset_meta import fill_head_for_training
from molt.utils.tool_exit import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--splits', nargs='+', default=['train', 'val', 'test'],
        choices=['train', 'val', 'test'])
    parser.add_argument('--device', default=None,
                        help='default: cuda if available, else cpu')
    parser.add_argument(
        '--batch-size', type=int, default=None,
        help="videos per backbone forward (default: the loader's)")
    parser.add_argument(
        '--amp', action='store_true',
        help='compute the training split under bf16 autocast, as '
        '`tools/train.py --amp` does online (the store is made for --amp '
        'training; val/test stay in full precision, as evaluation runs)')
    add_runner_arguments(parser)
    return parser.parse_args(argv)


def cache_settings(cfg) -> CacheSettings:
    """The settings of the config's FeatureCacheHook (those training
    reads the stores with)."""
    settings = CacheSettings.from_config(cfg)
    if settings is None:
        raise SystemExit(
            f'{cfg.filename} has no FeatureCacheHook in custom_hooks: add '
            "custom_hooks = [dict(type='FeatureCacheHook')] so that training "
            'reads the cache this tool writes.')
    return settings


def extract_split(model, cfg, split: str, settings: CacheSettings,
                  args) -> None:
    loader_cfg = cfg[f'{split}_dataloader']
    dataset = DATASETS.build(loader_cfg['dataset'])
    shuffled = bool(loader_cfg.get('sampler', {}).get('shuffle'))
    autocast = amp_autocast(args.amp) if split == 'train' else NO_AUTOCAST
    store = prepare_feature_cache(
        model, cfg.model, dataset, loader_cfg['dataset'],
        settings.cache_dir, settings.dtype, autocast=autocast,
        shuffle_rows=settings.shuffle_rows and shuffled)
    rank, _ = get_dist_info()
    if store.is_complete():
        if rank == 0:
            print(f'{split}: {store.directory} is complete, skipped.')
        return
    figures = fill_store(
        model, dataset, store,
        batch_size=args.batch_size or loader_cfg['batch_size'],
        num_workers=loader_cfg.get('num_workers', 0),
        collate_fn=collate_function(loader_cfg), autocast=autocast,
        desc=f'{split} features')
    everyone = all_gather_object(figures)
    if figures['missing_rows']:  # the same on every process
        raise RuntimeError(
            f'{store.directory} still misses {figures["missing_rows"]} '
            'rows after a full pass; run the tool again to fill them.')
    if rank != 0:
        return
    videos = sum(f['videos'] for f in everyone)
    segments = sum(f['segments'] for f in everyone)
    seconds = max(f['seconds'] for f in everyone)
    print(f'{split}: wrote {videos} videos ({segments} segments) to '
          f'{store.directory} in {seconds:.1f} s '
          f'({videos / seconds:.2f} videos/s, '
          f'{segments / seconds:.1f} segments/s).')


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    cfg = load_config(args)
    # The model is built as tools/train.py builds it (e.g. AVQA's head sizes
    # from the training vocabulary), though only its backbones run here.
    fill_head_for_training(cfg)
    settings = cache_settings(cfg)
    # Built by the Runner, so seeding (and any random initialisation) and
    # the process group are the same as in tools/train.py.
    runner = Runner.from_cfg(cfg)
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    model.init_weights()
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model.to(device).eval()
    for split in args.splits:
        if cfg.get(f'{split}_dataloader'):
            extract_split(model, cfg, split, settings, args)


if __name__ == '__main__':
    run_tool(main)
