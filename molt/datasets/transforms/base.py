"""Base class of the transforms that build the frames/audio inputs."""
from mmcv.transforms import BaseTransform

__all__ = ['MediaTransform', 'CACHED_FEATURES']

#: Result key under which :class:`LoadCachedFeatures` puts a sample's
#: frozen backbone features.
CACHED_FEATURES = 'cached_features'


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
