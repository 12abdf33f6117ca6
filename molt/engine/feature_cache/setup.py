"""Opening (or creating) a dataset's store, in one process or several.

In a multi-process run every process computes the cache key (they must
agree), rank 0 creates the store and the others open it; a pipeline with
random augmentation is refused.
"""
import os.path as osp
from typing import List

import numpy as np
from mmengine.logging import print_log
from torch import nn

from molt.utils.dist import all_ranks_agree, run_on_rank0
from .features import feature_layout
from .key import cache_key
from .pipeline import add_cache_reader, cache_reader, check_deterministic
from .settings import NO_AUTOCAST, CacheSettings
from .store import FeatureStore, media_key

__all__ = ['prepare_feature_cache', 'store_directory', 'sample_rows']


def store_directory(cache_dir: str, dataset, dataset_cfg: dict) -> str:
    """The store of a dataset: ``<cache_dir>/<DatasetType>-<ann_file
    stem>``, plus ``-<split>`` for datasets whose splits share one
    annotation file (AVSBench's ``split``)."""
    stem = osp.splitext(osp.basename(dataset_cfg.get('ann_file', 'data')))[0]
    name = f'{type(dataset).__name__}-{stem}'
    if dataset_cfg.get('split'):
        name += f"-{dataset_cfg['split']}"
    return osp.join(cache_dir, name)


def _media_keys(dataset) -> List[str]:
    return [media_key(dataset.get_data_info(i)) for i in range(len(dataset))]


def sample_rows(store: FeatureStore, dataset) -> np.ndarray:
    """``(len(dataset),)`` the store row of every sample."""
    return np.array([store.rows[key] for key in _media_keys(dataset)],
                    dtype=np.int64)


def prepare_feature_cache(model: nn.Module,
                          model_cfg: dict,
                          dataset,
                          dataset_cfg: dict,
                          cache_dir: str,
                          dtype: str = CacheSettings.dtype,
                          autocast: str = NO_AUTOCAST,
                          shuffle_rows: bool = False,
                          memory_dir=None,
                          prefetch_rows: int = 0) -> FeatureStore:
    """Opens (or creates) the dataset's store and puts
    ``LoadCachedFeatures`` first in the dataset's pipeline.

    Every process of a multi-process run calls it: all compute the key
    (and must agree), rank 0 creates the store, the others open it. The
    cache folder must be visible to every process (one file system shared
    by all machines of a multi-machine run).

    Args:
        model: An :class:`AVModel` with a parallel adapter, weights loaded.
        model_cfg: Its config.
        dataset: The built dataset (plain, not wrapped).
        dataset_cfg: Its config.
        cache_dir: Root folder of the cache (see :func:`store_directory`).
        dtype: Storage dtype (``'float16'`` halves the disk and I/O).
        autocast: Autocast dtype the features are computed under (see
            :func:`~.settings.autocast_dtype`); part of the key.
        shuffle_rows: Lay the rows out in a fixed random order (for a
            split read in :class:`~.order.ChunkShuffledOrder`, so that a
            chunk of consecutive rows is a random subset of the videos).
            Only applies when the store is created.
        memory_dir: Where the store's in-memory copy goes (see
            :meth:`FeatureStore.copy_to_memory`); None: disk only.
        prefetch_rows: Chunk size of the order the dataset is read in
            (:class:`~.order.ChunkShuffledOrder` for a shuffled loader,
            sequential otherwise), for the readers' prefetching; 0 for
            another order.

    Returns:
        The store.

    Raises:
        ValueError: The adapter scheme does not read frozen features, or
            the pipeline is random.
        StaleCacheError: The store on disk was made with another key.
    """
    if not model.adapter.is_parallel:
        raise ValueError(
            f'{type(model.adapter).__name__} runs its backbones with '
            'gradients; only parallel schemes (MoLT, Mettle-style) read '
            'frozen features that can be cached.')
    check_deterministic(dataset_cfg['pipeline'])
    reader = cache_reader(dataset)
    if reader is not None:
        return FeatureStore(reader.store_dir, memory_dir)
    key, parts = cache_key(model_cfg, dataset_cfg, model, dtype, autocast)
    all_ranks_agree(key, 'the feature cache key')
    directory = store_directory(cache_dir, dataset, dataset_cfg)
    rows = list(dict.fromkeys(_media_keys(dataset)))
    if shuffle_rows:
        order = np.random.default_rng(int(key[:8], 16)).permutation(
            len(rows))
        rows = [rows[i] for i in order]

    def create() -> None:
        FeatureStore.create(directory, key, parts,
                            lambda: feature_layout(model, dataset[0]), rows,
                            dtype)

    run_on_rank0(create)
    if not osp.isfile(osp.join(directory, 'manifest.json')):
        raise FileNotFoundError(
            f'Rank 0 created the feature cache {directory}, but this process '
            'cannot see it: put cache_dir on a file system shared by every '
            'machine of the run.')
    store = FeatureStore(directory, memory_dir)
    add_cache_reader(dataset, directory, memory_dir, prefetch_rows)
    state = 'complete' if store.is_complete() else 'filled as samples pass'
    print_log(f'Feature cache for {osp.basename(directory)}: {directory} '
              f'({state}).', logger='current')
    return store
