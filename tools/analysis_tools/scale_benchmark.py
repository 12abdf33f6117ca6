"""Times the feature-cache workflow at dataset scale, end to end.

For a config (random backbone weights: ``pretrained`` is dropped) it

1. writes ``--num-videos`` synthetic training videos of the real shapes
   with the task's generator (``molt.datasets.synthetic``) in the layout
   of molt's converters: 1 fps JPEG frames (``--frame-size``, default the
   converters' 256 px short side; 224 px for AVSBench) and a wav, read
   through the config's own pipeline (the same decode path as real data;
   the generators' clip lengths are theirs, e.g. 10-20 s for MUSIC-AVQA
   instead of 60 s: only the sampled seconds are decoded);
2. probes the store layout (the feature cache's own layout function) and
   reports the row size per video and the store size;
3. fills the training split's store (``--fill extract``: the frozen
   backbones, batched, bf16 with ``--amp``; frames/s and segments/s), or
   with random rows of the same layout (``--fill random``, for measuring
   reads at a size the CPU cannot extract in reasonable time);
4. runs ``--epochs`` cached epochs: training through the Runner with the
   config's ``FeatureCacheHook`` reading the store, or ``--loader-only``
   the data path alone (loader, preprocessing, unpacking of the rows), from
   disk (``--drop-page-cache``: cold reads every epoch) or from memory
   (``--in-memory``).

Prints each phase's time and writes them as JSON, with the end-to-end
total (extraction plus training: what a user waits for once the data is
converted) and the total with the synthetic data's writing.

Example::

    python tools/analysis_tools/scale_benchmark.py \
        configs/molt/avqa_swin_htsat.py --num-videos 9288 --epochs 30 \
        --device cuda --amp --extract-batch-size 32
"""
import argparse
import json
import os
import os.path as osp
import shutil
import time

import numpy as np
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from molt.datasets import synthetic
from molt.engine.feature_cache import (CacheSettings, StaleCacheError,
                                       amp_autocast, collate_function,
                                       fill_store, prepare_feature_cache,
                                       read_features, read_in_chunks,
                                       sample_rows)
from molt.engine.optim_wrappers import apply_amp
from molt.registry import DATASETS
from molt.utils import register_all_modules
from molt.utils.dataset_meta import fill_head_for_training
from molt.utils.params import strip_pretrained
from molt.utils.tool_exit import run_tool

#: Synthetic generator and frame side (the release's) per dataset.
GENERATORS = {
    'AVEDataset': (synthetic.make_ave, 256),
    'MusicAVQADataset': (synthetic.make_avqa, 256),
    ('AVSBenchDataset', 's4'): (synthetic.make_avs_s4, 224),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--num-videos', type=int, required=True,
                        help='training videos (store rows)')
    parser.add_argument('--epochs', type=int, default=1,
                        help='cached epochs')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default=None,
                        help='default: cuda if available')
    parser.add_argument('--amp', action='store_true',
                        help='bf16 autocast (extraction and training)')
    parser.add_argument('--extract-batch-size', type=int, default=None,
                        help="videos per backbone forward (default: the "
                        "loader's batch size)")
    parser.add_argument('--batch-size', type=int, default=None,
                        help='training batch size (default: the config\'s)')
    parser.add_argument('--num-workers', type=int, default=None,
                        help='loader workers (default: the config\'s)')
    parser.add_argument('--fill', choices=['extract', 'random'],
                        default='extract')
    parser.add_argument('--loader-only', action='store_true',
                        help='cached epochs without the training step')
    parser.add_argument('--in-memory', action='store_true',
                        help='read the store from a copy in --memory-dir')
    parser.add_argument('--memory-dir', default='/dev/shm')
    parser.add_argument('--drop-page-cache', action='store_true',
                        help='evict the store from the page cache before '
                        'every epoch (cold reads from disk)')
    parser.add_argument('--chunk-rows', type=int, default=None,
                        help="chunked training order (default: the hook's)")
    parser.add_argument('--frame-size', type=int, default=None)
    parser.add_argument('--layout-only', action='store_true',
                        help='only report the row and store sizes for '
                        '--num-videos (writes one video)')
    parser.add_argument('--work-dir', default=None,
                        help='default: work_dirs/scale_benchmark/<config>')
    parser.add_argument('--keep', action='store_true',
                        help='keep the synthetic data and the store (a '
                        'later run with the same settings reuses them)')
    parser.add_argument('--out', default=None,
                        help='JSON file (default: <work-dir>/'
                        'scale_benchmark.json)')
    return parser.parse_args(argv)


def _generator(dataset_cfg: dict):
    key = dataset_cfg['type']
    if key == 'AVSBenchDataset':
        key = (key, dataset_cfg.get('subset'))
    if key not in GENERATORS:
        raise SystemExit(
            f'No synthetic generator for {key}; the benchmark supports '
            f'{sorted(map(str, GENERATORS))}.')
    return GENERATORS[key]


def write_videos(cfg: Config, data_root: str, num_videos: int,
                 frame_size) -> dict:
    """Writes the synthetic set (plus 1 val and 1 test video, which the
    generators want), or reuses the one a ``--keep`` run left with the
    same settings."""
    generate, default_size = _generator(cfg.train_dataloader.dataset)
    settings = dict(generator=generate.__name__, num_videos=num_videos,
                    frame_size=frame_size or default_size)
    marker = osp.join(data_root, 'synthetic.json')
    if osp.isfile(marker):
        with open(marker) as f:
            if json.load(f) == settings:
                return dict(seconds=0.0, videos=num_videos, reused=True)
    shutil.rmtree(data_root, ignore_errors=True)
    start = time.perf_counter()
    generate(data_root, num_videos=dict(train=num_videos, val=1, test=1),
             frame_size=settings['frame_size'])
    with open(marker, 'w') as f:
        json.dump(settings, f)
    return dict(seconds=time.perf_counter() - start, videos=num_videos)


def benchmark_config(args, work_dir: str, data_root: str) -> Config:
    """The config pointed at the synthetic set, random weights, training
    split only, the feature cache in ``work_dir``."""
    cfg = Config.fromfile(args.config)
    cfg.model = strip_pretrained(cfg.model.to_dict())
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    loader = cfg.train_dataloader
    loader.dataset.data_root = data_root
    if args.batch_size:
        loader.batch_size = args.batch_size
    if args.num_workers is not None:
        loader.num_workers = args.num_workers
        loader.persistent_workers = args.num_workers > 0
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    cfg.train_cfg.max_epochs = args.epochs
    cfg.train_cfg.pop('val_interval', None)
    cfg.default_hooks.checkpoint = None
    hook = dict(type='FeatureCacheHook',
                cache_dir=osp.join(work_dir, 'feature_cache'),
                in_memory=args.in_memory, memory_dir=args.memory_dir)
    if args.chunk_rows is not None:
        hook['chunk_rows'] = args.chunk_rows
    cfg.custom_hooks = [
        h for h in cfg.get('custom_hooks', [])
        if h['type'] not in ('FeatureCacheHook', 'EpochTimerHook')
    ] + [hook]
    if args.amp:
        apply_amp(cfg)
    return cfg


def open_store(args, cfg, model, dataset, settings: CacheSettings):
    """The training split's store; one a ``--keep`` run left for other
    inputs (another model) is replaced."""

    def prepare():
        return prepare_feature_cache(
            model, cfg.model, dataset, cfg.train_dataloader.dataset,
            settings.cache_dir, settings.dtype,
            autocast=amp_autocast(args.amp),
            shuffle_rows=settings.shuffle_rows,
            memory_dir=settings.memory_copy_dir)

    try:
        return prepare()
    except StaleCacheError as error:
        print(f'{error}: replacing it.')
        shutil.rmtree(settings.cache_dir)
        return prepare()


def random_fill(store, seed: int = 0) -> None:
    """Writes random rows (the store's layout and dtype), then finalises."""
    rng = np.random.default_rng(seed)
    size = sum(int(np.prod(shape)) for _, shape in store.layout)
    for start in range(0, store.num_rows, 16):
        keys = store.row_keys[start:start + 16]
        rows = torch.from_numpy(
            rng.standard_normal((len(keys), size), dtype=np.float32))
        store.write(keys, store.unpack(rows))
    store.finalize()


def loader_epochs(runner, cfg, model, settings: CacheSettings,
                  args) -> list:
    """Cached epochs of the data path alone: loader, rows to the device as
    float32, unpacked (what the feature cache feeds the model)."""
    loader = runner.build_dataloader(cfg.train_dataloader)
    chunk_rows = settings.chunk_rows
    store = prepare_feature_cache(
        model, cfg.model, loader.dataset, cfg.train_dataloader.dataset,
        settings.cache_dir, settings.dtype,
        autocast=amp_autocast(args.amp),
        memory_dir=settings.memory_copy_dir, prefetch_rows=chunk_rows)
    if args.in_memory:
        if not store.copy_to_memory():
            raise SystemExit('--in-memory: the store does not fit.')
    else:
        read_in_chunks(loader, sample_rows(store, loader.dataset),
                       chunk_rows)
    device = next(model.parameters()).device
    epochs = []
    for epoch in range(args.epochs):
        if args.drop_page_cache:
            store.drop_page_cache()
        loader.sampler.set_epoch(epoch)
        videos, start = 0, time.perf_counter()
        for batch in loader:
            read_features(batch['inputs']['features'], store,
                          model.data_preprocessor)
            videos += len(batch['data_samples'])
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - start
        source = 'memory' if store.in_memory() else 'disk'
        epochs.append(dict(seconds=seconds, videos=videos,
                           videos_per_s=videos / seconds, source=source))
        print(f'cached epoch {epoch + 1} (data path, {source}): '
              f'{seconds:.2f} s, {videos / seconds:.1f} videos/s')
    if args.in_memory:
        store.drop_memory_copy()
    return epochs


class EpochClock(Hook):
    """Times the Runner's training epochs (lowest priority: after the
    feature cache's end-of-epoch work)."""

    priority = 'LOWEST'

    def __init__(self):
        self.epochs = []

    def before_train_epoch(self, runner) -> None:
        self._start = time.perf_counter()

    def after_train_epoch(self, runner) -> None:
        seconds = time.perf_counter() - self._start
        videos = len(runner.train_dataloader.dataset)
        self.epochs.append(dict(seconds=seconds, videos=videos,
                                videos_per_s=videos / seconds))
        print(f'cached epoch {len(self.epochs)} (training): {seconds:.2f} s'
              f', {videos / seconds:.1f} videos/s')


def fill(args, cfg, model, dataset, store) -> dict:
    """Fills the training store (phase 3); returns its figures."""
    if store.is_complete():  # left by a --keep run with the same key
        return dict(seconds=0.0, reused=True)
    if args.fill == 'random':
        start = time.perf_counter()
        random_fill(store)
        return dict(seconds=time.perf_counter() - start)
    loader_cfg = cfg.train_dataloader
    figures = fill_store(
        model, dataset, store,
        batch_size=args.extract_batch_size or loader_cfg.batch_size,
        num_workers=loader_cfg.get('num_workers', 0),
        collate_fn=collate_function(loader_cfg),
        autocast=amp_autocast(args.amp), desc='extraction')
    seconds = figures['seconds']
    figures.update(videos_per_s=figures['videos'] / seconds,
                   segments_per_s=figures['segments'] / seconds)
    print(f"extraction: {seconds:.1f} s, {figures['videos_per_s']:.2f} "
          f"videos/s, {figures['segments_per_s']:.1f} segments/s "
          '(one frame and its audio each)')
    return figures


def main(argv=None):
    args = parse_args(argv)
    if args.device == 'cpu':
        os.environ['CUDA_VISIBLE_DEVICES'] = ''  # before CUDA starts
    register_all_modules()
    name = osp.splitext(osp.basename(args.config))[0]
    work_dir = args.work_dir or osp.join('work_dirs', 'scale_benchmark', name)
    data_root = osp.join(work_dir, 'data')
    os.makedirs(work_dir, exist_ok=True)
    result = dict(
        config=args.config, num_videos=args.num_videos, epochs=args.epochs,
        amp=args.amp, fill=args.fill, loader_only=args.loader_only,
        in_memory=args.in_memory, drop_page_cache=args.drop_page_cache)
    phases = result['phases'] = {}
    num_written = 1 if args.layout_only else args.num_videos
    phases['write'] = write_videos(Config.fromfile(args.config), data_root,
                                   num_written, args.frame_size)

    cfg = benchmark_config(args, work_dir, data_root)
    fill_head_for_training(cfg)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    model.init_weights()  # as tools/extract_features.py (random weights)
    model.eval()
    device = next(model.parameters()).device
    result['device'] = (torch.cuda.get_device_name(device)
                        if device.type == 'cuda' else 'cpu')
    settings = CacheSettings.from_config(cfg)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    start = time.perf_counter()
    store = open_store(args, cfg, model, dataset, settings)
    phases['layout'] = dict(seconds=time.perf_counter() - start)
    result.update(layout=store.layout, row_bytes=store.row_bytes,
                  store_bytes=store.row_bytes * args.num_videos)
    print(f'store: {store.row_bytes / 2**20:.2f} MiB per video, '
          f'{result["store_bytes"] / 2**30:.2f} GiB for '
          f'{args.num_videos} videos')

    if not args.layout_only:
        phases['fill'] = fill(args, cfg, model, dataset, store)
        start = time.perf_counter()
        if args.loader_only:
            epochs = loader_epochs(runner, cfg, model, settings, args)
        else:
            clock = EpochClock()
            runner.register_hook(clock)
            runner.train()
            epochs = clock.epochs
        phases['epochs'] = dict(seconds=time.perf_counter() - start,
                                per_epoch=epochs)
        result['end_to_end_s'] = (phases['fill']['seconds'] +
                                  phases['epochs']['seconds'])
    result['total_s'] = sum(p['seconds'] for p in phases.values())
    if not args.keep:
        shutil.rmtree(data_root, ignore_errors=True)
        shutil.rmtree(settings.cache_dir, ignore_errors=True)
    out = args.out or osp.join(work_dir, 'scale_benchmark.json')
    with open(out, 'w') as f:
        json.dump(result, f, indent=2)
    print(json.dumps(
        {k: v for k, v in result.items() if k != 'layout'}, indent=2))
    print(f'written to {out}')
    return result


if __name__ == '__main__':
    run_tool(main)
