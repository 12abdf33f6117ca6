"""Building a model from a config and, optionally, a trained checkpoint
(mmseg's ``mmseg/apis/inference.py``): the one way the inferencer
(``tools/infer.py``) and the analysis tools get a model.

``tools/test.py`` builds its model through the Runner, but fills head
sizes the same way (:mod:`molt.utils.dataset_meta`) and loads the
checkpoint with the same function
(:func:`~molt.utils.checkpoint.load_model_checkpoint`).
"""
import copy
import logging
import os.path as osp
from typing import Optional, Union

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed
from torch import nn

from molt.registry import MODELS
from molt.utils import register_all_modules
from molt.utils.checkpoint import load_model_checkpoint
from molt.utils.dataset_meta import (apply_checkpoint_dataset_meta,
                                     fill_head_for_training)

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


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: Optional[str] = 'cpu',
               cfg_options: Optional[dict] = None,
               strict: bool = True,
               fallback_split: Optional[str] = None) -> nn.Module:
    """Builds the config's model as training builds it and loads a
    checkpoint into it.

    * **Head sizes** the config leaves None (AVQA's vocabulary sizes) come
      from the checkpoint's ``meta['dataset_meta']``
      (:func:`~molt.utils.dataset_meta.apply_checkpoint_dataset_meta`,
      which also hands its learned metainfo, e.g. the AVQA vocabulary, to
      the config's evaluation datasets); without a checkpoint, from the
      training split (:func:`~molt.utils.dataset_meta.fill_head_for_training`).
    * **Weights**: the global random state is seeded from
      ``cfg.randomness`` first, as mmengine's Runner does, so randomly
      initialised backbones (the demo configs) get the weights training
      gave them; ``init_weights()`` loads the configured pretrained
      backbones; the checkpoint is loaded on top with
      :func:`~molt.utils.checkpoint.load_model_checkpoint` (an
      adapter-only checkpoint refills its frozen backbones from their
      ``pretrained`` files and checks their fingerprints; a full one must
      hold every weight).

    Args:
        config: Config path or object (the one the checkpoint was trained
            with); an object is copied, not changed.
        checkpoint: The checkpoint file, or None for the config's own
            weights (pretrained or seeded random backbones).
        device: ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ...; None picks a GPU
            when there is one.
        cfg_options: Config entries to override.
        strict: Refuse a checkpoint that does not fit the model.
        fallback_split: Whose dataset metainfo fills head sizes the
            checkpoint does not record (``'test'`` as ``tools/test.py``);
            None refuses such a checkpoint.

    Returns:
        The model in eval mode on ``device``, with ``cfg`` (the config,
        head sizes and learned metainfo filled in: build datasets from it)
        and ``dataset_meta`` (the checkpoint's training metainfo, ``{}``
        when it has none) attached.

    Raises:
        FileNotFoundError, CorruptCheckpointError: The files cannot be
            read.
        ValueError: The checkpoint does not record the head sizes the
            config leaves None (and ``fallback_split`` is None).
        IncompatibleCheckpointError: The checkpoint does not fit the
            config's model (another task, scheme or size).
    """
    register_all_modules()
    cfg = read_config(config, cfg_options)
    if checkpoint is not None:
        apply_checkpoint_dataset_meta(cfg, checkpoint, fallback_split)
    else:
        fill_head_for_training(cfg)
    # Warnings only while building: init_weights() would list every
    # parameter at INFO level.
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        set_random_seed(**cfg.get('randomness', dict(seed=None)))
        init_default_scope(cfg.get('default_scope', 'molt'))
        model = MODELS.build(cfg.model)
        # Loads pretrained backbone files (a backbone refuses to run
        # without).
        model.init_weights()
        loaded = {} if checkpoint is None else load_model_checkpoint(
            model, checkpoint, strict=strict)
    finally:
        logger.setLevel(level)
    meta = loaded.get('meta') if isinstance(loaded, dict) else None
    model.cfg = cfg
    model.dataset_meta = dict((meta or {}).get('dataset_meta') or {})
    return model.to(device or default_device()).eval()
