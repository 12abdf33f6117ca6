"""Packing a sample into model inputs and an AVDataSample."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from molt.engine.feature_cache import CACHED_FEATURES
from molt.registry import TRANSFORMS
from molt.structures import AVDataSample

__all__ = ['PackAVInputs']


def _to_tensor(value) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    return torch.as_tensor(np.asarray(value))


@TRANSFORMS.register_module()
class PackAVInputs(BaseTransform):
    """Packs ``frames``/``audio`` (and task extras) into ``inputs`` and the
    annotations into an :class:`AVDataSample`.

    ``frames`` (a list of ``(H, W, 3)`` arrays) becomes ``(T, 3, H, W)``
    uint8; ``audio`` stays ``(T, samples)`` float32. A sample read from
    the feature cache carries ``inputs['features']`` (its flat store row,
    see :mod:`molt.engine.feature_cache`) instead of frames and audio.

    Args:
        input_keys: Result keys that go to the model besides frames and
            audio (e.g. ``('question', )``).
        data_keys: Annotation keys stored as data fields of the sample.
        meta_keys: Keys stored as meta information.
    """

    def __init__(self,
                 input_keys: Sequence[str] = (),
                 data_keys: Sequence[str] = ('gt_label', ),
                 meta_keys: Sequence[str] = ('video_id', 'sample_idx')):
        self.input_keys = tuple(input_keys)
        self.data_keys = tuple(data_keys)
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        if CACHED_FEATURES in results:
            # One flat row per sample: cheap to pass between processes.
            inputs = dict(
                features=torch.from_numpy(np.array(results[CACHED_FEATURES])))
        else:
            frames = np.stack(results['frames'])  # (T, H, W, 3)
            inputs = dict(
                frames=torch.from_numpy(frames).permute(0, 3, 1,
                                                        2).contiguous(),
                audio=_to_tensor(results['audio']))
        for key in self.input_keys:
            inputs[key] = _to_tensor(results[key])
        sample = AVDataSample(
            metainfo={k: results[k]
                      for k in self.meta_keys if k in results})
        for key in self.data_keys:
            if key in results:
                sample.set_field(_to_tensor(results[key]), key)
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(input_keys={self.input_keys}, '
                f'data_keys={self.data_keys}, meta_keys={self.meta_keys})')
