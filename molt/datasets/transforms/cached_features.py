"""Reading a sample's frozen features from the feature cache."""
from typing import Optional

from mmcv.transforms import BaseTransform

from molt.registry import TRANSFORMS
from molt.utils.feature_store import FeatureStore, media_key
from .base import CACHED_FEATURES

__all__ = ['LoadCachedFeatures']


@TRANSFORMS.register_module()
class LoadCachedFeatures(BaseTransform):
    """First transform of a cached pipeline (inserted by
    :class:`~molt.engine.hooks.FeatureCacheHook`, not written in configs).

    Once the store is complete, the sample's flat feature row is read from
    the memory map into ``results['cached_features']`` and every
    :class:`MediaTransform` after this one is skipped. Until then the
    sample is loaded as usual. ``results['feature_store']`` tells the model
    which store the sample belongs to (to split a cached row, or to write
    the features it computes).

    Required keys: ``video_id`` or ``sample_idx`` (see :func:`media_key`).
    Added keys: ``feature_store`` and, once complete, ``cached_features``.

    Args:
        store_dir: Folder of the dataset's :class:`FeatureStore`.
    """

    def __init__(self, store_dir: str):
        self.store_dir = store_dir
        self._store: Optional[FeatureStore] = None
        self._complete = False

    def transform(self, results: dict) -> dict:
        if self._store is None:
            self._store = FeatureStore(self.store_dir)
        if not self._complete:
            self._complete = self._store.is_complete()
        if self._complete:
            results[CACHED_FEATURES] = self._store.read(media_key(results))
        results['feature_store'] = self.store_dir
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(store_dir={self.store_dir!r})'
