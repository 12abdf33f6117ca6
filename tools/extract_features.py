"""Fills the frozen-feature cache of a config ahead of training.

Runs the frozen backbones over the chosen splits once and writes the
tapped features (and stage maps for dense heads) where the
``FeatureCacheHook`` of the same config will read them. Resumable: a
complete store is skipped.

Example::

    python tools/extract_features.py configs/demo/ave_synthetic_cached.py
"""
import argparse

import torch
from mmengine.runner import Runner
from tqdm import tqdm

from molt.engine.feature_cache import prepare_feature_cache
from molt.utils import (add_runner_arguments, load_config,
                        register_all_modules)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--splits', nargs='+', default=['train', 'val', 'test'],
        choices=['train', 'val', 'test'])
    parser.add_argument('--device', default=None,
                        help='default: cuda if available, else cpu')
    add_runner_arguments(parser)
    return parser.parse_args(argv)


def hook_options(cfg) -> dict:
    """``cache_dir``/``dtype`` of the config's FeatureCacheHook."""
    for hook in cfg.get('custom_hooks', []):
        if hook['type'] == 'FeatureCacheHook':
            return dict(cache_dir=hook.get('cache_dir'),
                        dtype=hook.get('dtype', 'float16'))
    raise SystemExit(
        f'{cfg.filename} has no FeatureCacheHook in custom_hooks: add '
        "custom_hooks = [dict(type='FeatureCacheHook')] so that training "
        'reads the cache this tool writes.')


@torch.no_grad()
def extract(model, loader, store, desc: str) -> None:
    for batch in tqdm(loader, desc=desc, unit='batch'):
        data = model.data_preprocessor(batch)
        inputs, samples = data['inputs'], data['data_samples']
        frames, audio = inputs['frames'], inputs['audio']
        frozen = model.backbone_features(
            frames.flatten(0, 1), audio.flatten(0, 1),
            model.head.needs_stage_maps)
        model.write_features(frozen, samples, frames.shape[1])
    if not store.is_complete():
        raise RuntimeError(f'{store.directory} is still incomplete after a '
                           'full pass; was the loader cut short?')


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    cfg = load_config(args)
    options = hook_options(cfg)
    cache_dir = options['cache_dir'] or f'{cfg.work_dir}/feature_cache'
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    # Built by the Runner, so seeding (and any random initialisation) is
    # the same as in tools/train.py.
    runner = Runner.from_cfg(cfg)
    model = runner.model
    model.init_weights()
    model.to(device).eval()
    for split in args.splits:
        loader_cfg = cfg.get(f'{split}_dataloader')
        if not loader_cfg:
            continue
        loader_cfg = loader_cfg.copy()
        loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
        loader_cfg['persistent_workers'] = False
        loader = Runner.build_dataloader(loader_cfg)
        store = prepare_feature_cache(model, cfg.model, loader.dataset,
                                      loader_cfg['dataset'], cache_dir,
                                      options['dtype'])
        if store.is_complete():
            print(f'{split}: {store.directory} is complete, skipped.')
            continue
        extract(model, loader, store, desc=f'{split} features')
        print(f'{split}: wrote {store.directory}')


if __name__ == '__main__':
    main()
