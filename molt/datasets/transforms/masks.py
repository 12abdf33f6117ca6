"""Loading and resizing binary segmentation masks."""
from typing import Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from molt.registry import TRANSFORMS
from ..media.converted_files import image_size, read_mask

__all__ = ['LoadMasks', 'ResizeMasks']


@TRANSFORMS.register_module()
class LoadMasks(BaseTransform):
    """Loads one binary mask per frame; frames without a mask get an empty
    one flagged as invalid (e.g. S4 training labels only the first frame).

    Masks are read like the official AVSBench loader reads them (grey
    value >= 128), and 0/1, palette and RGBA masks too; the rule is in
    :func:`~molt.datasets.media.read_mask`. A mask must have its
    frame's size; frame sizes are read from the image headers, so this
    works whether or not the frames themselves are loaded (the feature
    cache skips them). An empty, truncated or foreign file raises an error
    naming it.

    Required keys: ``mask_paths`` (a path or None per frame),
    ``frame_paths``.
    Added keys: ``gt_masks`` ``(T, H, W)`` uint8 in ``{0, 1}``,
    ``mask_valid`` ``(T, )`` bool.
    """

    def transform(self, results: dict) -> dict:
        masks, valid = [], []
        for path, frame_path in zip(results['mask_paths'],
                                    results['frame_paths']):
            shape = image_size(frame_path)
            valid.append(path is not None)
            if path is None:
                masks.append(np.zeros(shape, dtype=np.uint8))
                continue
            mask = read_mask(path)
            if mask.shape != shape:
                raise ValueError(
                    f'Mask {path} is {mask.shape[1]}x{mask.shape[0]} but its '
                    f'frame {frame_path} is {shape[1]}x{shape[0]} (WxH); '
                    'masks must be drawn on the frames as stored.')
            masks.append(mask)
        results['gt_masks'] = np.stack(masks)
        results['mask_valid'] = np.array(valid)
        return results


@TRANSFORMS.register_module()
class ResizeMasks(BaseTransform):
    """Resizes ``gt_masks`` to ``size`` with nearest-neighbour sampling
    (AVSBench scores masks at 224x224).

    Required keys: ``gt_masks`` ``(T, H, W)``. Modified keys: ``gt_masks``.

    Args:
        size: Output ``(height, width)`` or one int for a square.
    """

    def __init__(self, size: Union[int, Sequence[int]] = 224):
        self.size: Tuple[int, int] = ((size, size) if isinstance(size, int)
                                      else tuple(size))

    def transform(self, results: dict) -> dict:
        height, width = self.size
        results['gt_masks'] = np.stack([
            mmcv.imresize(m, (width, height), interpolation='nearest')
            for m in results['gt_masks']
        ])
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(size={self.size})'
