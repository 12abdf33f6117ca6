"""The config switch that turns on the frozen-feature cache."""
import os
from typing import Dict, Optional

import numpy as np
from mmengine.dist import barrier
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from molt.engine.feature_cache import (NO_AUTOCAST, CacheSettings,
                                       FeatureStore, assign_writer_rows,
                                       autocast_dtype, epoch_indices,
                                       feed_features, prepare_feature_cache,
                                       read_in_chunks, sample_rows)
from molt.registry import HOOKS

__all__ = ['FeatureCacheHook']


@HOOKS.register_module()
class FeatureCacheHook(Hook):
    """Caches the frozen backbone features of a parallel scheme on disk.

    Add ``custom_hooks = [dict(type='FeatureCacheHook')]`` to a config. The
    first epoch computes the features online and writes them (half
    precision by default); once a dataset's store is complete, later epochs
    read them and run neither the backbones nor any frame/audio loading.
    ``tools/extract_features.py`` fills the stores ahead of time. Stores are
    checked against a key of everything that changes the features (see
    :mod:`molt.engine.feature_cache.key`): a store made for other inputs is
    refused with a message.

    Before every step the hook gives the batch its features as the model's
    ``inputs['features']`` (:func:`~molt.engine.feature_cache.feed_features`):
    unpacked from the rows a complete store gave, or, while the store is
    incomplete, computed by the model's frozen backbones under the step's
    autocast and written. The model itself never touches a store.

    With several processes (``tools/dist_train.sh``, SLURM) all fill one
    store: before a filling pass every row is given to one process, and at
    its end the store is marked complete only if every row is there (else
    the missing rows are filled by the next pass).

    Reading at dataset scale:

    * ``chunk_rows``: once the training store is complete, the training
      order is shuffled within chunks of that many consecutive rows (see
      :class:`~molt.engine.feature_cache.ChunkShuffledOrder`; the training
      store's rows are laid out in a fixed random order for this), and
      readers ask the disk for a whole chunk on entering it (evaluation
      passes read sequentially, so chunk by chunk too). 0 keeps the
      loader's own order and reads row by row.
    * ``in_memory``: a complete store is copied once per machine to
      ``memory_dir`` (a memory file system) when it fits, and read from
      there; the copy is removed when the run ends.

    The arguments and their defaults are those of
    :class:`~molt.engine.feature_cache.CacheSettings`, which the tools read
    from this hook's config entry.

    Args:
        cache_dir: Root of the stores; default ``<work_dir>/feature_cache``.
        dtype: Storage dtype.
        chunk_rows: Rows per chunk of the cached training order.
        in_memory: Hold complete stores in memory when they fit.
        memory_dir: Memory file system for ``in_memory``.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 cache_dir: Optional[str] = None,
                 dtype: str = CacheSettings.dtype,
                 chunk_rows: int = CacheSettings.chunk_rows,
                 in_memory: bool = CacheSettings.in_memory,
                 memory_dir: str = CacheSettings.memory_dir):
        self.settings = CacheSettings(cache_dir, dtype, chunk_rows,
                                      in_memory, memory_dir)
        self._stores: Dict[str, FeatureStore] = {}
        self._rows: Dict[str, np.ndarray] = {}
        self._autocast: Dict[str, str] = {}

    # -- set-up ------------------------------------------------------------
    def _prepare(self, runner, split: str) -> None:
        loader = getattr(runner, f'{split}_dataloader')
        settings = self.settings
        # Evaluation steps run without the optimiser's autocast.
        autocast = autocast_dtype(
            runner.optim_wrapper) if split == 'train' else NO_AUTOCAST
        shuffled = bool(getattr(loader.sampler, 'shuffle', False))
        store = prepare_feature_cache(
            _model(runner), runner.cfg.model, loader.dataset,
            runner.cfg[f'{split}_dataloader']['dataset'],
            settings.root(runner.work_dir), settings.dtype,
            autocast=autocast,
            shuffle_rows=shuffled and settings.shuffle_rows,
            memory_dir=settings.memory_copy_dir,
            prefetch_rows=settings.chunk_rows)
        self._stores[split] = store
        self._rows[split] = sample_rows(store, loader.dataset)
        self._autocast[split] = autocast
        self._to_memory(store)

    def before_train(self, runner) -> None:
        self._prepare(runner, 'train')
        if runner.val_loop is not None:
            self._prepare(runner, 'val')

    def before_test(self, runner) -> None:
        self._prepare(runner, 'test')

    # -- passes ------------------------------------------------------------
    def _before_pass(self, runner, split: str) -> None:
        store = self._stores.get(split)
        if store is None:
            return
        sampler = getattr(runner, f'{split}_dataloader').sampler
        if not store.is_complete():
            # runner.epoch would build the training loop in a test run.
            epoch = runner.epoch if split == 'train' else None
            indices = epoch_indices(sampler, epoch)
            assign_writer_rows(store, self._rows[split][indices])
        elif split == 'train' and not store.in_memory():
            read_in_chunks(runner.train_dataloader, self._rows['train'],
                           self.settings.chunk_rows)

    def _feed(self, runner, split: str, data_batch: Optional[dict]) -> None:
        store = self._stores.get(split)
        if store is not None and data_batch is not None:
            feed_features(_model(runner), data_batch, store,
                          self._autocast[split], training=split == 'train')

    def _after_pass(self, runner, split: str) -> None:
        store = self._stores.get(split)
        if store is None or store.is_complete():
            return
        missing = store.finalize()
        if missing:
            print_log(
                f'Feature cache {store.directory}: {missing} of '
                f'{store.num_rows} rows still missing after this pass; '
                'the next pass computes them online.',
                logger='current', level=30)
            return
        print_log(f'Feature cache {store.directory} is complete.',
                  logger='current')
        self._to_memory(store)

    def before_train_epoch(self, runner) -> None:
        self._before_pass(runner, 'train')

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        self._feed(runner, 'train', data_batch)

    def after_train_epoch(self, runner) -> None:
        self._after_pass(runner, 'train')

    def before_val_epoch(self, runner) -> None:
        self._before_pass(runner, 'val')

    def before_val_iter(self, runner, batch_idx: int,
                        data_batch: Optional[dict] = None) -> None:
        self._feed(runner, 'val', data_batch)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._after_pass(runner, 'val')

    def before_test_epoch(self, runner) -> None:
        self._before_pass(runner, 'test')

    def before_test_iter(self, runner, batch_idx: int,
                         data_batch: Optional[dict] = None) -> None:
        self._feed(runner, 'test', data_batch)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._after_pass(runner, 'test')

    # -- memory ------------------------------------------------------------
    def _to_memory(self, store: FeatureStore) -> None:
        """Copies a complete store to memory, once per machine."""
        if not self.settings.in_memory or not store.is_complete():
            return
        if _local_rank() == 0:
            store.copy_to_memory()
        barrier()

    def after_run(self, runner) -> None:
        barrier()
        for store in self._stores.values():
            if self.settings.in_memory and _local_rank() == 0:
                store.drop_memory_copy()
            store.close()


def _model(runner):
    """The runner's model, unwrapped."""
    return runner.model.module if is_model_wrapper(
        runner.model) else runner.model


def _local_rank() -> int:
    """This process's rank on its machine (torchrun and srun set it)."""
    return int(os.environ.get('LOCAL_RANK', 0))
