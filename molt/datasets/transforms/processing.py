"""Frame processing."""
from typing import Sequence, Tuple, Union

import mmcv

from molt.engine.feature_cache import MediaTransform
from molt.registry import TRANSFORMS

__all__ = ['ResizeFrames']


@TRANSFORMS.register_module()
class ResizeFrames(MediaTransform):
    """Resizes every frame to ``size`` (no aspect-ratio keeping, as the
    peers feed Swin-V2 192x192 frames).

    Required keys: ``frames``. Modified keys: ``frames``.

    Args:
        size: Output ``(height, width)`` or one int for a square.
        interpolation: mmcv interpolation name.
    """

    def __init__(self,
                 size: Union[int, Sequence[int]],
                 interpolation: str = 'bicubic'):
        self.size: Tuple[int, int] = ((size, size) if isinstance(size, int)
                                      else tuple(size))
        self.interpolation = interpolation

    def transform(self, results: dict) -> dict:
        height, width = self.size
        results['frames'] = [
            mmcv.imresize(f, (width, height), interpolation=self.interpolation)
            for f in results['frames']
        ]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(size={self.size})'
