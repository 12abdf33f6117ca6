"""Loading frames listed file by file (datasets without a 1 fps folder)."""
import os.path as osp

import mmcv

from molt.registry import TRANSFORMS
from .base import MediaTransform

__all__ = ['LoadFrameFiles']


@TRANSFORMS.register_module()
class LoadFrameFiles(MediaTransform):
    """Loads one frame per segment from an explicit list of image files
    (e.g. AVSBench's ``{name}_{i}.png``).

    Required keys: ``frame_paths`` (one path per segment).
    Added keys: ``frames`` (list of ``(H, W, 3)`` uint8 RGB arrays).
    """

    def transform(self, results: dict) -> dict:
        frames = []
        for path in results['frame_paths']:
            if not osp.isfile(path):
                raise FileNotFoundError(f'Frame not found: {path}')
            frame = mmcv.imread(path, channel_order='rgb')
            if frame is None:
                raise OSError(f'Could not decode frame: {path}')
            frames.append(frame)
        results['frames'] = frames
        return results
