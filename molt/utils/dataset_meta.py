"""Hands facts learned from the training split (e.g. a vocabulary) to the
model config and to evaluation datasets: the one place where ``None`` head
sizes are filled, for ``tools/train.py``, ``tools/test.py`` and
:func:`molt.apis.init_model` (inference, analysis tools).

Two conventions, both opt-in:

* **Head sizes.** A ``model.head`` field left ``None`` whose name is a key
  of the dataset's metainfo (``AVQAHead``'s ``num_answers`` and
  ``vocab_size``) is filled with that value before the model is built:
  from the training dataset when training, from the checkpoint's
  ``meta['dataset_meta']`` (else, for ``tools/test.py``, the test
  dataset) when a checkpoint is loaded.
* **Learned metainfo.** A dataset class lists in ``LEARNED_META`` the
  metainfo entries it learns from the training split
  (``MusicAVQADataset``: ``'vocabulary'``). When testing a checkpoint, those
  entries of its ``meta['dataset_meta']`` are passed to the evaluation
  datasets as constructor arguments of the same name, so a checkpoint is
  evaluated with the vocabulary it was trained with, whatever the config's
  training files hold now.
"""
from typing import List, Mapping, Optional

from mmengine.config import Config
from mmengine.runner.checkpoint import CheckpointLoader

from molt.registry import DATASETS

__all__ = ['fill_head_for_training', 'apply_checkpoint_dataset_meta']

EVAL_LOADERS = ('val_dataloader', 'test_dataloader')


def _missing_head_fields(cfg: Config) -> List[str]:
    head = cfg.model.get('head') or {}
    return [key for key, value in head.items() if value is None]


def _fill_head(cfg: Config, dataset_meta: Mapping) -> None:
    for key in _missing_head_fields(cfg):
        if key in dataset_meta:
            cfg.model.head[key] = dataset_meta[key]


def _dataset_meta(dataset_cfg) -> dict:
    """Builds a dataset (annotations only are read) for its metainfo."""
    return dict(DATASETS.build(dataset_cfg).metainfo)


def fill_head_for_training(cfg: Config) -> None:
    """Fills ``None`` head fields from the training dataset's metainfo.

    The training dataset is built only when the head needs it; missing
    data then fails here, naming the missing file.
    """
    if _missing_head_fields(cfg):
        _fill_head(cfg, _dataset_meta(cfg.train_dataloader.dataset))


def apply_checkpoint_dataset_meta(cfg: Config,
                                  checkpoint: str,
                                  fallback_split: Optional[str] = 'test'
                                  ) -> None:
    """Prepares a config for ``checkpoint``.

    Passes the checkpoint's learned metainfo to the evaluation datasets
    that declare it (``LEARNED_META``) and fills ``None`` head fields from
    it. The checkpoint is read only when one of the two is needed.

    Args:
        cfg: The config, changed in place.
        checkpoint: The checkpoint file.
        fallback_split: Whose dataset metainfo fills the head fields the
            checkpoint does not record (``'test'``: ``tools/test.py``'s
            convention); None refuses such a checkpoint.

    Raises:
        ValueError: With ``fallback_split=None``, a head field stays
            ``None``.
    """
    learned = {}
    for name in EVAL_LOADERS:
        dataset_cfg = (cfg.get(name) or {}).get('dataset') or {}
        dataset_type = dataset_cfg.get('type')
        dataset_cls = DATASETS.get(dataset_type) if dataset_type else None
        learned[name] = getattr(dataset_cls, 'LEARNED_META', ())
    if not any(learned.values()) and not _missing_head_fields(cfg):
        return
    # A second read of the checkpoint (the runner loads it again): the
    # model's sizes must be known before the runner builds it.
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    meta = loaded.get('meta') or {}
    dataset_meta = meta.get('dataset_meta') or {}
    for name, keys in learned.items():
        for key in keys:
            if key in dataset_meta:
                cfg[name].dataset[key] = dataset_meta[key]
    _fill_head(cfg, dataset_meta)
    missing = _missing_head_fields(cfg)
    if missing and fallback_split is None:
        raise ValueError(
            f'{checkpoint} does not record {", ".join(missing)} (its '
            "meta['dataset_meta'] has "
            f'{sorted(dataset_meta) or "nothing"}), which the config leaves '
            'None: use a checkpoint written by tools/train.py, or set them '
            'with --cfg-options model.head.KEY=VALUE.')
    if missing:
        _fill_head(
            cfg, _dataset_meta(cfg[f'{fallback_split}_dataloader'].dataset))
