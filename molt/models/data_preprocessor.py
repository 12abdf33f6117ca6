"""Batches packed samples, normalises frames, moves everything to device."""
from typing import Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from molt.registry import MODELS

__all__ = ['AVDataPreprocessor']


@MODELS.register_module()
class AVDataPreprocessor(BaseDataPreprocessor):
    """Stacks every input of the batch and normalises the frames.

    Packed samples carry ``inputs`` as a dict: ``frames`` ``(T, 3, H, W)``
    uint8 RGB, ``audio`` ``(T, samples)`` float waveforms and task extras
    (e.g. ``question`` token ids). The batch keeps the same keys with a
    leading batch axis; frames become ``(B, T, 3, H, W)`` floats normalised
    with ``mean``/``std`` (0-255 scale). ``features``, the frozen features
    the feature cache puts in place of frames and audio (already batched,
    see :mod:`molt.engine.feature_cache.features`), are only moved to the
    device.

    Args:
        mean: Per-channel mean of the frames (ImageNet by default).
        std: Per-channel std of the frames.
        non_blocking: Copy to the device asynchronously.
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 non_blocking: bool = False):
        super().__init__(non_blocking=non_blocking)
        self.register_buffer(
            'mean', torch.tensor(mean).view(1, 1, -1, 1, 1), persistent=False)
        self.register_buffer(
            'std', torch.tensor(std).view(1, 1, -1, 1, 1), persistent=False)

    def forward(self, data: dict, training: bool = False) -> dict:
        """Args:
            data: ``{'inputs': {key: [per-sample tensors]} or {key: batched
                tensor}, 'data_samples': [...]}``.
            training: Unused (no batch augmentation).

        Returns:
            ``{'inputs': {key: (B, ...)}, 'data_samples': [...]}``.
        """
        data = self.cast_data(data)
        inputs = {}
        for key, value in data['inputs'].items():
            value = _stack(value)
            if key == 'frames':
                value = (value.float() - self.mean) / self.std
            inputs[key] = value
        return dict(inputs=inputs, data_samples=data.get('data_samples'))


def _stack(value):
    """Stacks per-sample tensors; a batched tensor (or the batched
    ``features`` dict) passes through."""
    if isinstance(value, (list, tuple)):
        return torch.stack(list(value))
    return value
