"""Building a model from a config and a trained checkpoint, for inference
(mmseg's ``init_model``)."""
import copy
import os.path as osp
from typing import Optional, Union

import torch
from mmengine.config import Config
from torch import nn

from molt.registry import MODELS
from molt.utils import register_all_modules
from molt.utils.checkpoint import load_state_into_model, read_checkpoint

__all__ = ['init_model', 'read_config', 'default_device']


def default_device() -> str:
    """``'cuda'`` when a GPU is visible, else ``'cpu'``."""
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def read_config(config: Union[str, Config],
                cfg_options: Optional[dict] = None) -> Config:
    """A config from a path (or a copy of a Config), options merged."""
    if isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(f'Config file not found: {config}')
        cfg = Config.fromfile(config)
    else:
        cfg = copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def _fill_head_sizes(cfg: Config, dataset_meta: dict, source: str) -> None:
    """Fills the head fields left None (AVQA's ``num_answers`` and
    ``vocab_size``) from the checkpoint's training metainfo."""
    head = cfg.model.get('head') or {}
    missing = [key for key, value in head.items() if value is None]
    unknown = [key for key in missing if key not in dataset_meta]
    if unknown:
        raise ValueError(
            f'{source} does not record {", ".join(unknown)} (its '
            "meta['dataset_meta'] has "
            f'{sorted(dataset_meta) or "nothing"}), which the config leaves '
            'None: use a checkpoint written by tools/train.py, or set them '
            'with --cfg-options model.head.KEY=VALUE.')
    for key in missing:
        head[key] = dataset_meta[key]


def init_model(config: Union[str, Config],
               checkpoint: str,
               device: Optional[str] = None,
               cfg_options: Optional[dict] = None,
               strict: bool = True) -> nn.Module:
    """Builds the config's model and loads a trained checkpoint into it.

    The checkpoint is read once and loaded with
    :func:`~molt.utils.checkpoint.load_state_into_model` (the loader of
    ``tools/test.py``): an adapter-only checkpoint refills its frozen
    backbones from their ``pretrained`` files and checks their
    fingerprints; a full one must hold every weight. Head sizes the config
    leaves None (AVQA's vocabulary sizes) come from the checkpoint's
    ``meta['dataset_meta']``, as in ``tools/test.py``.

    Args:
        config: Config path or object (the one the checkpoint was trained
            with).
        checkpoint: The checkpoint file; it is trusted (a full unpickle is
            allowed), as a file the user names is.
        device: ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ...; None picks a GPU
            when there is one.
        cfg_options: Config entries to override.
        strict: Refuse a checkpoint that does not fit the model.

    Returns:
        The model in eval mode on ``device``, with ``cfg`` (the config)
        and ``dataset_meta`` (the checkpoint's training metainfo, ``{}``
        when it has none) attached.

    Raises:
        FileNotFoundError, CorruptCheckpointError: The files cannot be
            read.
        IncompatibleCheckpointError: The checkpoint does not fit the
            config's model (another task, scheme or size).
    """
    register_all_modules()
    cfg = read_config(config, cfg_options)
    loaded = read_checkpoint(checkpoint, map_location='cpu', trust=True)
    meta = loaded.get('meta') if isinstance(loaded, dict) else None
    dataset_meta = dict((meta or {}).get('dataset_meta') or {})
    _fill_head_sizes(cfg, dataset_meta, checkpoint)
    model = MODELS.build(cfg.model)
    load_state_into_model(model, loaded, checkpoint, strict=strict)
    model.cfg = cfg
    model.dataset_meta = dataset_meta
    return model.to(device or default_device()).eval()
