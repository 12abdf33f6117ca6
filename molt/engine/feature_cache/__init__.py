"""The frozen-feature cache of parallel adapter schemes.

A parallel scheme (MoLT, Mettle-style) reads the outputs of frozen
backbones, which do not change while it trains; the cache computes them
once per video, stores them on disk and feeds them to the model as inputs
in later epochs, so that no backbone runs and no frame or audio is
decoded. Reading order, in the order a sample meets them:

* :mod:`.settings`: the one set of settings (``cache_dir``, ``dtype``,
  ``chunk_rows``, ...) of the hook and the tools, and the autocast dtype;
* :mod:`.setup`: opening or creating a dataset's store
  (:func:`prepare_feature_cache`), checked against :mod:`.key`;
* :mod:`.pipeline`: what the cache asks of a data pipeline
  (:class:`MediaTransform`, the reader transform ``LoadCachedFeatures`` in
  ``molt/datasets/transforms/cached_features.py``);
* :mod:`.store`: the on-disk store (:class:`FeatureStore`);
* :mod:`.features`: a batch's features, computed and written, or read,
  and handed to the model as ``inputs['features']``;
* :mod:`.order`: reading order and writer assignment across processes;
* :mod:`.extraction`: filling a store ahead of training.

``FeatureCacheHook`` (``molt/engine/hooks/feature_cache_hook.py``) turns it
on in a config; ``tools/extract_features.py`` fills stores ahead of time.
"""
from .extraction import collate_function, fill_store, samples_to_fill
from .features import (Features, batch_features, compute_features,
                       feature_layout, feed_features, group_features,
                       name_features, read_features, write_features)
from .key import cache_key
from .order import (ChunkShuffledOrder, assign_writer_rows, epoch_indices,
                    read_in_chunks)
from .pipeline import (CACHED_FEATURES, MediaTransform, add_cache_reader,
                       cache_reader, check_deterministic, media_transforms)
from .settings import (AMP_AUTOCAST, NO_AUTOCAST, CacheSettings, amp_autocast,
                       autocast_context, autocast_dtype)
from .setup import prepare_feature_cache, sample_rows, store_directory
from .store import FeatureStore, Layout, StaleCacheError, media_key

__all__ = [
    'collate_function', 'fill_store', 'samples_to_fill', 'Features',
    'batch_features', 'compute_features', 'feature_layout', 'feed_features',
    'group_features', 'name_features', 'read_features', 'write_features',
    'cache_key', 'ChunkShuffledOrder', 'assign_writer_rows',
    'epoch_indices', 'read_in_chunks', 'CACHED_FEATURES', 'MediaTransform',
    'add_cache_reader', 'cache_reader', 'check_deterministic',
    'media_transforms', 'AMP_AUTOCAST', 'NO_AUTOCAST', 'CacheSettings',
    'amp_autocast', 'autocast_context', 'autocast_dtype',
    'prepare_feature_cache', 'sample_rows', 'store_directory',
    'FeatureStore', 'Layout', 'StaleCacheError', 'media_key'
]
