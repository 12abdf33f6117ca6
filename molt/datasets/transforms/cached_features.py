"""Reading a sample's frozen features from the feature cache."""
from typing import Optional

from mmcv.transforms import BaseTransform

from molt.engine.feature_cache import CACHED_FEATURES, FeatureStore, media_key
from molt.registry import TRANSFORMS

__all__ = ['LoadCachedFeatures']


@TRANSFORMS.register_module()
class LoadCachedFeatures(BaseTransform):
    """First transform of a cached pipeline (inserted by
    :func:`~molt.engine.feature_cache.prepare_feature_cache`, not written
    in configs).

    Once the store is complete, the sample's flat feature row is read into
    ``results['cached_features']`` (a read-only view of the store's map;
    the disk is asked for the row, or for its chunk, in one request) and
    every :class:`~molt.engine.feature_cache.MediaTransform` after this one
    is skipped. Until then the sample is loaded as usual, and the feature
    cache computes and writes its features.

    The store becomes complete only between passes (see
    :meth:`FeatureStore.finalize`), so a batch is either all cached or all
    online.

    Required keys: ``video_id`` or ``sample_idx`` (see :func:`media_key`).
    Added keys: ``cached_features``, once the store is complete.

    Args:
        store_dir: Folder of the dataset's :class:`FeatureStore`.
        memory_dir: Where to look for the store's in-memory copy (read
            instead of the disk once it exists); None: disk only.
        prefetch_rows: Chunk size of the read order (see
            :class:`FeatureStore`); 0 reads row by row.
    """

    def __init__(self,
                 store_dir: str,
                 memory_dir: Optional[str] = None,
                 prefetch_rows: int = 0):
        self.store_dir = store_dir
        self.memory_dir = memory_dir
        self.prefetch_rows = prefetch_rows
        self._store: Optional[FeatureStore] = None
        self._complete = False

    def transform(self, results: dict) -> dict:
        if self._store is None:
            self._store = FeatureStore(self.store_dir, self.memory_dir,
                                       self.prefetch_rows)
        if not self._complete:
            self._complete = self._store.is_complete()
        if self._complete:
            results[CACHED_FEATURES] = self._store.read(media_key(results))
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(store_dir={self.store_dir!r}, '
                f'memory_dir={self.memory_dir!r}, '
                f'prefetch_rows={self.prefetch_rows})')
