"""What the feature cache asks of a data pipeline.

* Transforms that only build the backbones' input (loading, resizing or
  cutting frames and audio) derive from :class:`MediaTransform`: they are
  skipped for a sample whose features come from the cache, and they say
  whether they are deterministic.
* ``LoadCachedFeatures`` (a registered transform, in
  ``molt/datasets/transforms``) goes first in a cached pipeline and puts a
  sample's feature row under :data:`CACHED_FEATURES`;
  :func:`add_cache_reader` inserts it.

The transform classes are looked up in the ``TRANSFORMS`` registry, so
this module does not import the dataset package (whose transforms import
it).
"""
import re
from typing import List, Optional

from mmcv.transforms import BaseTransform

from molt.registry import TRANSFORMS

__all__ = [
    'CACHED_FEATURES', 'MediaTransform', 'transform_class',
    'check_deterministic', 'media_transforms', 'cache_reader',
    'add_cache_reader'
]

#: Result key under which ``LoadCachedFeatures`` puts a sample's frozen
#: backbone features (its flat store row).
CACHED_FEATURES = 'cached_features'
#: Registered name of the transform that reads the store.
READER = 'LoadCachedFeatures'

_RANDOM_NAME = re.compile(r'Random|Jitter|Distortion|Augment|Mix|Cutout')


class MediaTransform(BaseTransform):
    """A transform whose output only feeds the frozen backbones (loading,
    resizing or cutting frames and audio).

    When a sample's backbone features come from the feature cache
    (``results[CACHED_FEATURES]``), the frames and audio are not needed and
    the transform is skipped, so cached epochs read no media at all.

    ``deterministic`` tells the feature cache whether the output depends
    only on the input; a random media transform (augmentation) makes the
    features change from epoch to epoch and forbids caching.
    """

    deterministic = True

    def __call__(self, results: dict) -> dict:
        if CACHED_FEATURES in results:
            return results
        return super().__call__(results)


def transform_class(cfg: dict) -> type:
    """The class a pipeline entry builds.

    Raises:
        KeyError: The type is not registered.
    """
    name = cfg['type'] if isinstance(cfg['type'], str) else None
    cls = TRANSFORMS.get(name) if name else cfg['type']
    if cls is None:
        raise KeyError(f'Unknown transform {name!r} in the pipeline.')
    return cls


def check_deterministic(pipeline: List[dict]) -> None:
    """Raises if a transform of ``pipeline`` is random.

    A transform counts as random when it is a :class:`MediaTransform` that
    says so (``deterministic = False``) or its name looks like an
    augmentation (``Random*``, ``*Jitter``, ``*Distortion``, ...).
    """
    random = []
    for cfg in pipeline:
        cls = transform_class(cfg)
        if (issubclass(cls, MediaTransform) and not cls.deterministic) or \
                _RANDOM_NAME.search(cls.__name__):
            random.append(cls.__name__)
    if random:
        raise ValueError(
            f'The feature cache needs a deterministic pipeline, but '
            f'{", ".join(random)} augment(s) at random: cached features '
            'would freeze one draw. Remove the augmentation or the '
            'FeatureCacheHook.')


def media_transforms(pipeline: List[dict]) -> List[dict]:
    """The entries of ``pipeline`` that build the backbones' input (part of
    the cache key)."""
    return [
        cfg for cfg in pipeline
        if issubclass(transform_class(cfg), MediaTransform)
    ]


def cache_reader(dataset) -> Optional[BaseTransform]:
    """The dataset's ``LoadCachedFeatures`` (first in its pipeline), or
    None."""
    transforms = dataset.pipeline.transforms
    if transforms and isinstance(transforms[0], TRANSFORMS.get(READER)):
        return transforms[0]
    return None


def add_cache_reader(dataset, store_dir: str, memory_dir: Optional[str],
                     prefetch_rows: int) -> None:
    """Puts a ``LoadCachedFeatures`` of the store first in the dataset's
    pipeline (see that transform for the arguments)."""
    dataset.pipeline.transforms.insert(
        0,
        TRANSFORMS.build(
            dict(type=READER, store_dir=store_dir, memory_dir=memory_dir,
                 prefetch_rows=prefetch_rows)))
