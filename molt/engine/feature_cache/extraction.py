"""Filling a store ahead of training (``tools/extract_features.py``,
``tools/analysis_tools/scale_benchmark.py``).

Only the rows still missing are computed, one sample per row (the questions
of a MUSIC-AVQA video share one), split evenly across the processes of a
multi-process run; so a killed extraction resumes where it stopped.
"""
import time
from functools import partial
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.registry import FUNCTIONS
from torch import nn
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

from .features import compute_features, write_features
from .settings import NO_AUTOCAST
from .setup import sample_rows
from .store import FeatureStore

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


def fill_store(model: nn.Module,
               dataset,
               store: FeatureStore,
               batch_size: int,
               num_workers: int = 0,
               collate_fn: Optional[Callable] = None,
               autocast: str = NO_AUTOCAST,
               desc: str = 'features') -> Dict[str, float]:
    """Computes and writes this process's share of the missing rows, then
    finalises the store (collective).

    Args:
        model: An :class:`AVModel` on its device, in eval mode.
        dataset: The dataset the store belongs to (its pipeline starting
            with ``LoadCachedFeatures``, see
            :func:`~.setup.prepare_feature_cache`).
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
    loader = DataLoader(
        Subset(dataset, share), batch_size=batch_size,
        num_workers=num_workers, collate_fn=collate_fn)
    rank, _ = get_dist_info()
    videos = segments = 0
    wait = 0.0
    start = last = time.perf_counter()
    for batch in tqdm(loader, desc=desc, unit='batch', disable=rank != 0):
        wait += time.perf_counter() - last
        features, data_samples = compute_features(model, batch, autocast)
        write_features(store, features, data_samples)
        shape = features['visual'][0].shape
        videos += shape[0]
        segments += int(np.prod(shape[:2]))
        _sync(device)
        last = time.perf_counter()
    seconds = time.perf_counter() - start
    missing = store.finalize()
    return dict(videos=videos, segments=segments, seconds=seconds,
                load_wait_seconds=wait, missing_rows=missing)
