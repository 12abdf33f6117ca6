"""The config switch that turns on the frozen-feature cache."""
import os.path as osp
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from molt.registry import HOOKS
from ..feature_cache import prepare_feature_cache

__all__ = ['FeatureCacheHook']


@HOOKS.register_module()
class FeatureCacheHook(Hook):
    """Caches the frozen backbone features of a parallel scheme on disk.

    Add ``custom_hooks = [dict(type='FeatureCacheHook')]`` to a config. The
    first epoch computes the features online and writes them (half
    precision by default); once a dataset's store is complete, later epochs
    read them through a memory map and run neither the backbones nor any
    frame/audio loading. ``tools/extract_features.py`` fills the stores
    ahead of time. Stores are checked against a key of everything that
    changes the features (see :mod:`molt.engine.feature_cache`): a store
    made for other inputs is refused with a message.

    Args:
        cache_dir: Root of the stores; default ``<work_dir>/feature_cache``.
        dtype: Storage dtype.
    """

    priority = 'VERY_HIGH'

    def __init__(self, cache_dir: Optional[str] = None,
                 dtype: str = 'float16'):
        self.cache_dir = cache_dir
        self.dtype = dtype

    def _prepare(self, runner, split: str) -> None:
        loader = getattr(runner, f'{split}_dataloader')
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        cache_dir = self.cache_dir or osp.join(runner.work_dir,
                                               'feature_cache')
        prepare_feature_cache(model, runner.cfg.model, loader.dataset,
                              runner.cfg[f'{split}_dataloader']['dataset'],
                              cache_dir, self.dtype)

    def before_train(self, runner) -> None:
        self._prepare(runner, 'train')
        if runner.val_loop is not None:
            self._prepare(runner, 'val')

    def before_test(self, runner) -> None:
        self._prepare(runner, 'test')
