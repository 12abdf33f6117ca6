"""Head sizes and learned metainfo handed over by the tools."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from molt.datasets.synthetic import make_avqa
from molt.utils import register_all_modules
from molt.utils.dataset_meta import (apply_checkpoint_dataset_meta,
                                     fill_head_for_training)

REPO = Path(__file__).resolve().parents[2]
VOCABULARY = dict(answers=['no', 'yes'], words=['<pad>', '<unk>', 'is'])


def config(name, data_root):
    register_all_modules()
    cfg = Config.fromfile(str(REPO / 'configs' / 'demo' / name))
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = str(data_root)
    return cfg


def test_nothing_is_read_when_nothing_is_learned(tmp_path):
    # AVE: no head field left None, no learned metainfo; neither the data
    # nor the checkpoint exists, and neither is needed.
    cfg = config('ave_synthetic.py', tmp_path / 'nowhere')
    fill_head_for_training(cfg)
    apply_checkpoint_dataset_meta(cfg, str(tmp_path / 'missing.pth'))
    assert cfg.model.head.num_classes == 28


def test_training_sizes_come_from_the_training_split(tmp_path):
    make_avqa(str(tmp_path), num_videos=dict(train=2, val=1, test=1))
    cfg = config('avqa_synthetic.py', tmp_path)
    fill_head_for_training(cfg)
    head = cfg.model.head
    assert head.num_answers >= 2 and head.vocab_size > 2
    missing = config('avqa_synthetic.py', tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match='avqa-train.json'):
        fill_head_for_training(missing)


def test_test_config_takes_the_checkpoint_vocabulary(tmp_path):
    checkpoint = str(tmp_path / 'ckpt.pth')
    torch.save(
        dict(meta=dict(dataset_meta=dict(
            vocabulary=VOCABULARY, num_answers=2, vocab_size=3))),
        checkpoint)
    cfg = config('avqa_synthetic.py', tmp_path / 'nowhere')
    apply_checkpoint_dataset_meta(cfg, checkpoint)
    assert cfg.test_dataloader.dataset.vocabulary == VOCABULARY
    assert cfg.val_dataloader.dataset.vocabulary == VOCABULARY
    assert (cfg.model.head.num_answers, cfg.model.head.vocab_size) == (2, 3)


def test_a_checkpoint_without_sizes_is_refused_without_fallback(tmp_path):
    # init_model's convention (no test split to fall back on for a user's
    # videos): the head sizes must come from the checkpoint.
    checkpoint = str(tmp_path / 'ckpt.pth')
    torch.save(dict(meta=dict(dataset_meta=dict())), checkpoint)
    cfg = config('avqa_synthetic.py', tmp_path / 'nowhere')
    with pytest.raises(ValueError, match='does not record num_answers'):
        apply_checkpoint_dataset_meta(cfg, checkpoint, fallback_split=None)
    # tools/test.py's convention falls back on the test split's metainfo.
    with pytest.raises(FileNotFoundError, match='avqa-test.json'):
        apply_checkpoint_dataset_meta(cfg, checkpoint)
