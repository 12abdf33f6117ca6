"""The model and the data an analysis tool reads, built like training.

The model is built the way mmengine's Runner builds it: the global random
state is seeded from ``cfg.randomness`` first, so any randomly initialised
backbone (the demo configs) gets the same weights as in ``tools/train.py``
and ``tools/extract_features.py``, and a feature cache they wrote still
matches. The Runner itself is not constructed (it would dump the config
and open a log for nothing). ``init_weights()`` then loads the configured
pretrained backbones, and a training checkpoint, when given, is loaded on
top with :func:`molt.utils.checkpoint.load_model_checkpoint`.
"""
import copy
import os.path as osp
from typing import List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, set_random_seed
from torch.utils.data import DataLoader, Dataset, Subset

from molt.registry import DATASETS, MODELS
from molt.utils.checkpoint import load_model_checkpoint, trust_checkpoint
from molt.utils.dataset_meta import (apply_checkpoint_dataset_meta,
                                     fill_head_for_training)
from molt.utils.feature_store import media_key

__all__ = ['build_analysis_model', 'split_dataset', 'first_unique_media',
           'split_loader', 'describe_weights']

SPLITS = ('train', 'val', 'test')
LOGGER = 'molt_analysis'


def build_analysis_model(cfg: Config, checkpoint: Optional[str],
                         device: str) -> torch.nn.Module:
    """Builds the config's model for analysis, in eval mode on ``device``.

    Like ``tools/test.py``, it first applies what the checkpoint learned
    from its training split (e.g. the AVQA vocabulary) to ``cfg`` **in
    place**, so datasets built from ``cfg`` afterwards agree with the
    model; without a checkpoint, ``None`` head sizes come from the
    training split as in ``tools/train.py``.

    Args:
        cfg: The full config (its ``work_dir`` is left alone: a feature
            cache under it is still found).
        checkpoint: A training checkpoint named by the user (fully
            unpickled, as ``tools/test.py`` does), or None for the config's
            pretrained backbones (random ones for the demo configs, seeded
            as in training).
        device: ``'cpu'``, ``'cuda'``, ...

    Returns:
        The model.
    """
    if checkpoint is not None:
        trust_checkpoint(checkpoint)  # named explicitly by the user
        apply_checkpoint_dataset_meta(cfg, checkpoint)
    else:
        fill_head_for_training(cfg)
    # Warnings only: init_weights() would list every parameter otherwise.
    if MMLogger.check_instance_created(LOGGER):
        MMLogger.get_instance(LOGGER)  # makes it the current logger again
    else:
        MMLogger.get_instance(LOGGER, log_level='WARNING')
    set_random_seed(**cfg.get('randomness', dict(seed=None)))
    init_default_scope(cfg.get('default_scope', 'molt'))
    model = MODELS.build(cfg.model)
    # Loads pretrained backbone files (a backbone refuses to run without).
    model.init_weights()
    if checkpoint is not None:
        load_model_checkpoint(model, checkpoint)
    return model.to(device).eval()


def describe_weights(model: torch.nn.Module, cfg: Config,
                     checkpoint: Optional[str]) -> str:
    """How a figure's title names the weights: the checkpoint, else the
    backbones' pretrained files, else their random seed."""
    if checkpoint is not None:
        return f'checkpoint {osp.basename(checkpoint)}'
    backbones = [model.visual_backbone, model.audio_backbone]
    files = [osp.basename(b.pretrained) for b in backbones
             if getattr(b, 'pretrained', None)]
    if files:
        return 'pretrained ' + ', '.join(files)
    seed = cfg.get('randomness', {}).get('seed')
    return f'random backbones (seed {seed})'


def split_dataset(cfg: Config, split: str) -> Tuple[Dataset, dict]:
    """Builds the dataset of ``<split>_dataloader`` (annotations only).

    Returns:
        The dataset and its config.
    """
    loader_cfg = cfg.get(f'{split}_dataloader')
    if split not in SPLITS or not loader_cfg:
        present = [s for s in SPLITS if cfg.get(f'{s}_dataloader')]
        raise ValueError(f'--split {split}: the config has no '
                         f'{split}_dataloader; use one of {present}.')
    dataset_cfg = copy.deepcopy(loader_cfg['dataset'])
    return DATASETS.build(dataset_cfg), dataset_cfg


def first_unique_media(dataset: Dataset, num: int) -> List[int]:
    """Indices of the first ``num`` samples with distinct media.

    Samples that share a video (AVE rows of one video id, the questions of
    a MUSIC-AVQA video) show the backbones the same frames and sound, so
    only the first of them is kept.

    Args:
        dataset: An mmengine dataset (``get_data_info``).
        num: How many to take; all distinct ones when fewer.
    """
    indices, seen = [], set()
    for index in range(len(dataset)):
        key = media_key(dataset.get_data_info(index))
        if key not in seen:
            seen.add(key)
            indices.append(index)
            if len(indices) == num:
                break
    return indices


def split_loader(cfg: Config, split: str, dataset: Dataset,
                 indices: List[int],
                 batch_size: Optional[int] = None) -> DataLoader:
    """An unshuffled loader over ``dataset[indices]`` with the split's
    collate function, workers and batch size (unless given)."""
    loader_cfg = copy.deepcopy(cfg.get(f'{split}_dataloader'))
    loader_cfg.update(
        dataset=Subset(dataset, indices),
        sampler=dict(type='DefaultSampler', shuffle=False),
        persistent_workers=False)
    if batch_size is not None:
        loader_cfg['batch_size'] = batch_size
    return Runner.build_dataloader(loader_cfg)
