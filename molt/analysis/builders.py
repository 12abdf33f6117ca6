"""The data an analysis tool reads, and how its figures name the weights.

The model comes from :func:`molt.apis.init_model` (built as training
builds it, seeded from ``cfg.randomness``, so randomly initialised demo
backbones and a feature cache written by ``tools/train.py`` or
``tools/extract_features.py`` still match); build the datasets from the
config it returns (``model.cfg``), which holds what the checkpoint
learned from its training split.
"""
import copy
import os.path as osp
from typing import List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.runner import Runner
from torch.utils.data import DataLoader, Dataset, Subset

from molt.engine.feature_cache import media_key
from molt.registry import DATASETS

__all__ = ['split_dataset', 'first_unique_media', 'split_loader',
           'describe_weights']

SPLITS = ('train', 'val', 'test')


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
