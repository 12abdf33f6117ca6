"""The frozen features of a batch: computed, written, read, handed to the
model.

A parallel scheme's :class:`~molt.models.AVModel` takes a batch's frozen
backbone features as ``inputs['features']`` in place of ``frames`` and
``audio``, in the *batch format* of :data:`Features`::

    {'visual': [(B, T, N, C), ...], 'audio': [(B, T, N, C), ...],
     'visual_maps': [(B, T, C, H, W) x 4]}      # maps: dense heads only

one tensor per tapped block, in the adapter's layer order. A store row
holds one sample's features flat, named ``'visual.0'``, ``'audio.1'``,
``'visual_maps.3'``, ... (:func:`name_features`); the store's layout lists
those names with their per-sample shapes.

:func:`feed_features` is what ``FeatureCacheHook`` does before every step:
a batch read from a complete store has its rows unpacked; a batch of an
incomplete store runs the frozen backbones here (the model's
``backbone_features``, under the step's autocast), its features are
written, and the model gets them as inputs. Either way the model runs no
backbone and touches no file.
"""
from typing import Dict, List, Sequence, Tuple

import torch
from torch import Tensor, nn

from molt.structures import AVDataSample
from .settings import NO_AUTOCAST, autocast_context
from .store import FeatureStore, Layout, media_key

__all__ = [
    'Features', 'batch_features', 'name_features', 'group_features',
    'feature_layout', 'compute_features', 'write_features',
    'read_features', 'feed_features'
]

#: Frozen features of a batch: per kind, one ``(B, T, ...)`` per block.
Features = Dict[str, List[Tensor]]
#: Inputs the features replace.
MEDIA_INPUTS = ('frames', 'audio')


def batch_features(frozen: Dict[str, List[Tensor]], steps: int) -> Features:
    """:meth:`AVModel.backbone_features`' output (lists of ``(B*T,
    ...)``) in the batch format (lists of ``(B, T, ...)``)."""
    return {
        kind: [tensor.unflatten(0, (-1, steps)) for tensor in tensors]
        for kind, tensors in frozen.items()
    }


def name_features(features: Features) -> Dict[str, Tensor]:
    """Features by store name: ``{'visual.0': (B, T, N, C), ...}``."""
    return {
        f'{kind}.{index}': tensor
        for kind, tensors in features.items()
        for index, tensor in enumerate(tensors)
    }


def group_features(named: Dict[str, Tensor]) -> Features:
    """Inverse of :func:`name_features`."""
    features: Features = {}
    for name in sorted(named, key=lambda n: (n.split('.')[0],
                                             int(n.split('.')[1]))):
        features.setdefault(name.split('.')[0], []).append(named[name])
    return features


def compute_features(model: nn.Module,
                     data_batch: dict,
                     autocast: str = NO_AUTOCAST,
                     training: bool = False
                     ) -> Tuple[Features, List[AVDataSample]]:
    """Runs the data preprocessor and the frozen backbones on a loader
    batch, as the model's step would (the backbones under ``autocast``,
    the preprocessor outside it).

    Args:
        model: An :class:`AVModel` with a parallel adapter.
        data_batch: A loader batch with ``frames`` and ``audio`` inputs.
        autocast: Autocast dtype of the backbones' forward.
        training: Passed to the data preprocessor.

    Returns:
        The features (batch format) and the preprocessed data samples.
    """
    data = model.data_preprocessor(data_batch, training)
    frames, audio = data['inputs']['frames'], data['inputs']['audio']
    device = frames.device
    with torch.no_grad(), autocast_context(device, autocast):
        frozen = model.backbone_features(frames.flatten(0, 1),
                                         audio.flatten(0, 1),
                                         model.head.needs_stage_maps)
    return batch_features(frozen, frames.shape[1]), data['data_samples']


def feature_layout(model: nn.Module, sample: dict) -> Layout:
    """Per-sample ``(name, shape)`` of the cached features: the frozen
    backbones run once on one packed sample (what a row will hold).

    Args:
        model: An :class:`AVModel` with a parallel adapter.
        sample: A packed sample (``inputs`` with ``frames``/``audio``,
            ``data_samples``), e.g. ``dataset[0]``.
    """
    features, _ = compute_features(
        model,
        dict(inputs={k: [v] for k, v in sample['inputs'].items()},
             data_samples=[sample['data_samples']]))
    return [(name, tuple(tensor.shape[1:]))
            for name, tensor in name_features(features).items()]


def write_features(store: FeatureStore, features: Features,
                   data_samples: Sequence) -> None:
    """Writes a batch's features to the rows of its samples' media keys
    (see :func:`~.store.media_key`); nothing once the store is
    complete."""
    if not store.is_complete():
        store.write([media_key(sample) for sample in data_samples],
                    name_features(features))


def read_features(rows, store: FeatureStore,
                  data_preprocessor: nn.Module) -> Features:
    """A batch of store rows in the batch format, on the data
    preprocessor's device, as float32.

    Args:
        rows: ``(B, row_size)`` or a list of ``(row_size, )`` rows (in the
            storage dtype), as ``PackAVInputs`` packs them.
        store: The store they were read from (its layout splits them).
        data_preprocessor: The model's, for its device.
    """
    if isinstance(rows, (list, tuple)):
        rows = torch.stack(list(rows))
    rows = data_preprocessor.cast_data(rows).float()
    return group_features(store.unpack(rows))


def feed_features(model: nn.Module,
                  data_batch: dict,
                  store: FeatureStore,
                  autocast: str = NO_AUTOCAST,
                  training: bool = False) -> None:
    """Gives a loader batch its frozen features as ``inputs['features']``,
    in place (see the module docstring).

    Args:
        model: The :class:`AVModel` (not a wrapper) the batch goes to.
        data_batch: The loader batch; a cached one carries store rows as
            ``inputs['features']``, an online one frames and audio, which
            are replaced.
        store: The split's store.
        autocast: Autocast dtype of the step's forward (see
            :func:`~.settings.autocast_dtype`).
        training: Whether the batch goes to a training step.
    """
    inputs = data_batch['inputs']
    if 'features' in inputs:
        inputs['features'] = read_features(inputs['features'], store,
                                           model.data_preprocessor)
        return
    features, data_samples = compute_features(model, data_batch, autocast,
                                              training)
    write_features(store, features, data_samples)
    data_batch['inputs'] = {
        key: value
        for key, value in inputs.items() if key not in MEDIA_INPUTS
    }
    data_batch['inputs']['features'] = features
