"""Filling a feature store ahead of training (``tools/extract_features.py``,
``tools/analysis_tools/scale_benchmark.py``).

Only the rows still missing are computed, one sample per row (the questions
of a MUSIC-AVQA video share one), split evenly across the processes of a
multi-process run; so a killed extraction resumes where it stopped.
"""
import time
from contextlib import nullcontext
from functools import partial
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.registry import FUNCTIONS
from torch import nn
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

from molt.utils.feature_store import FeatureStore
from .feature_cache import sample_rows

__all__ = ['samples_to_fill', 'fill_store', 'collate_function']


def samples_to_fill(store: FeatureStore, dataset) -> List[int]:
    """This process's share of the samples whose rows are missing.

    One sample per missing row (its first), ordered by row so that writes
    go forward through the file, dealt round-robin to the processes. Sets
    :attr:`FeatureStore.writer_rows` to the rows of this share.
    """
    rows = sample_rows(store, dataset)
    written = store.written()
    first: Dict[int, int] = {}
    for index, row in enumerate(rows.tolist()):
        if not written[row]:
            first.setdefault(row, index)
    rank, world_size = get_dist_info()
    share = [first[row] for row in sorted(first)][rank::world_size]
    store.writer_rows = frozenset(rows[share].tolist())
    return share


def collate_function(loader_cfg: dict) -> Callable:
    """A loader config's collate function, built as mmengine's Runner
    builds it."""
    collate_cfg = dict(loader_cfg.get('collate_fn',
                                      dict(type='pseudo_collate')))
    collate = collate_cfg.pop('type')
    if isinstance(collate, str):
        collate = FUNCTIONS.get(collate)
    return partial(collate, **collate_cfg)


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


@torch.no_grad()
def fill_store(model: nn.Module,
               dataset,
               store: FeatureStore,
               batch_size: int,
               num_workers: int = 0,
               collate_fn: Optional[Callable] = None,
               autocast: str = 'none',
               desc: str = 'features') -> Dict[str, float]:
    """Computes and writes this process's share of the missing rows, then
    finalises the store (collective).

    Args:
        model: An :class:`AVModel` (the store attached, e.g. by
            :func:`prepare_feature_cache`) on its device, in eval mode.
        dataset: The dataset the store belongs to (its pipeline starting
            with :class:`LoadCachedFeatures`).
        store: The store.
        batch_size: Videos per backbone forward.
        num_workers: Data-loader workers (decoding).
        collate_fn: The loader's collate function.
        autocast: ``'bfloat16'``/``'float16'`` runs the backbones under
            autocast to that dtype; ``'none'`` in full precision.
        desc: Progress-bar label.

    Returns:
        This process's figures: ``videos``, ``segments`` (one frame and
        its audio each), ``seconds`` (wall clock), ``load_wait_seconds``
        (waiting for decoded batches), ``missing_rows`` (after the pass;
        0 when complete).
    """
    share = samples_to_fill(store, dataset)
    device = next(model.parameters()).device
    precision = nullcontext() if autocast == 'none' else torch.autocast(
        device.type, dtype=getattr(torch, autocast))
    loader = DataLoader(
        Subset(dataset, share), batch_size=batch_size,
        num_workers=num_workers, collate_fn=collate_fn)
    rank, _ = get_dist_info()
    videos = segments = 0
    wait = 0.0
    start = last = time.perf_counter()
    for batch in tqdm(loader, desc=desc, unit='batch', disable=rank != 0):
        wait += time.perf_counter() - last
        data = model.data_preprocessor(batch)
        frames, audio = data['inputs']['frames'], data['inputs']['audio']
        with precision:
            frozen = model.backbone_features(
                frames.flatten(0, 1), audio.flatten(0, 1),
                model.head.needs_stage_maps)
        model.write_features(frozen, data['data_samples'], frames.shape[1])
        videos += frames.shape[0]
        segments += int(np.prod(frames.shape[:2]))
        _sync(device)
        last = time.perf_counter()
    seconds = time.perf_counter() - start
    missing = store.finalize()
    return dict(videos=videos, segments=segments, seconds=seconds,
                load_wait_seconds=wait, missing_rows=missing)
