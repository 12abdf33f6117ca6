"""Checkpoint files: torch >= 2.6 loading (save -> resume -> test with
mmengine), corrupt files, atomic writes, adapter-only checkpoints and strict
loading."""
import logging
import pickle

import numpy as np
import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.runner.checkpoint import CheckpointLoader
from torch.utils.data import Dataset

from molt.engine.runner import MoltRunner
from molt.utils import (CorruptCheckpointError, IncompatibleCheckpointError,
                        NotResumableError, UnsafeCheckpointError,
                        allow_unsafe_load, load_from_local,
                        load_model_checkpoint)
from molt.utils import atomic_io
from molt.utils.atomic_io import atomic_save
from molt.utils.checkpoint import check_resumable, model_checkpoint_state
from molt.utils.frozen_state import fingerprint


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs)
        y = torch.stack(data_samples)
        pred = self.linear(x).squeeze(1)
        if mode == 'loss':
            return dict(loss=((pred - y)**2).mean())
        return [(p, t) for p, t in zip(pred, y)]


class ToyData(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, index):
        x = torch.tensor([index / 8, 1.0])
        return dict(inputs=x, data_samples=2 * x[0])


class ToyMetric(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results += [float((p - t)**2) for p, t in data_samples]

    def compute_metrics(self, results):
        return dict(mse=sum(results) / len(results))


def make_runner(work_dir, max_epochs, runner_cls=Runner, **kwargs):
    loader = dict(
        dataset=ToyData(),
        sampler=dict(type='DefaultSampler', shuffle=False),
        batch_size=4,
        num_workers=0)
    return runner_cls(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=loader,
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        test_dataloader=loader,
        test_cfg=dict(),
        test_evaluator=dict(type=ToyMetric),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1)),
        default_scope='molt',
        experiment_name=f'toy_{max_epochs}_{kwargs.get("resume", False)}',
        **kwargs)


def test_mmengine_checkpoints_need_the_opt_in(tmp_path):
    """mmengine's own Runner pickles its message hub with bound methods
    (``builtins.getattr``), which no allow-list makes safe: refused, with
    the opt-in named; with it, the file loads."""
    work_dir = tmp_path / 'run'
    make_runner(work_dir, max_epochs=1).train()
    saved = str(work_dir / 'epoch_1.pth')
    with pytest.raises(UnsafeCheckpointError,
                       match='builtins.getattr.*--unsafe-load'):
        load_from_local(saved)
    allow_unsafe_load()
    try:
        assert 'message_hub' in load_from_local(saved)
    finally:
        allow_unsafe_load(False)


def test_save_resume_test(tmp_path):
    """molt's runner writes checkpoints that torch reads with
    ``weights_only=True``; resuming and testing from them work."""
    work_dir = tmp_path / 'run'
    make_runner(work_dir, max_epochs=2, runner_cls=MoltRunner).train()
    saved = work_dir / 'epoch_2.pth'
    # Nothing beyond numpy's arrays, dtypes and scalars is needed.
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(saved)
    assert unsafe and all(name.startswith('numpy') for name in unsafe)

    resumed = make_runner(work_dir, max_epochs=3, runner_cls=MoltRunner,
                          resume=True)
    resumed.train()
    assert resumed.epoch == 3
    assert resumed.iter == 6  # two iterations per epoch, epochs 1-2 resumed
    # The message hub's histories survived the plain-array round trip.
    history = resumed.message_hub.get_scalar('train/loss').data[0]
    assert len(history) == 6
    weights = load_from_local(str(work_dir / 'epoch_3.pth'))['state_dict']

    tester = make_runner(
        tmp_path / 'test', max_epochs=1, runner_cls=MoltRunner,
        load_from=str(work_dir / 'epoch_3.pth'))
    metrics = tester.test()
    assert set(metrics) == {'mse'}
    torch.testing.assert_close(tester.model.linear.weight,
                               weights['linear.weight'])


def test_plain_state_dicts_load(tmp_path):
    path = tmp_path / 'weights.pth'
    torch.save({'w': torch.ones(2)}, path)
    assert torch.equal(load_from_local(str(path))['w'], torch.ones(2))


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        load_from_local(str(tmp_path / 'absent.pth'))


# -- corrupt files ------------------------------------------------------------
@pytest.fixture
def good_checkpoint(tmp_path):
    path = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.randn(1000)}}, path)
    return path


def test_corrupt_files_are_named_with_what_is_wrong(good_checkpoint,
                                                   tmp_path):
    data = good_checkpoint.read_bytes()
    cases = {
        'empty.pth': (b'', 'empty'),
        'truncated.pth': (data[:len(data) // 2], 'truncated'),
        'random.pth': (np.random.default_rng(0).bytes(4096),
                       'neither a PyTorch zip archive nor a pickle'),
    }
    for name, (content, problem) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(CorruptCheckpointError) as error:
            load_from_local(str(path))
        assert str(path) in str(error.value)
        assert problem in str(error.value)
        # The same through mmengine's loader (what the runner calls).
        with pytest.raises(CorruptCheckpointError, match=name):
            CheckpointLoader.load_checkpoint(str(path))


def test_damaged_member_is_reported(good_checkpoint, tmp_path):
    """A complete zip whose tensor data is overwritten: torch's reader
    error is turned into one that names the file."""
    data = bytearray(good_checkpoint.read_bytes())
    data[200:1200] = bytes(1000)
    path = tmp_path / 'damaged.pth'
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptCheckpointError, match='damaged.pth'):
        load_from_local(str(path))


# -- atomic writes ------------------------------------------------------------
def test_interrupted_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / 'epoch_1.pth'
    atomic_save({'w': torch.ones(3)}, path)
    before = path.read_bytes()

    def fail_half_way(obj, f):
        f.write(b'PK\x03\x04 half a checkpoint')
        raise OSError('disk full (simulated)')

    monkeypatch.setattr(atomic_io.torch, 'save', fail_half_way)
    with pytest.raises(OSError, match='simulated'):
        atomic_save({'w': torch.zeros(3)}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['epoch_1.pth']


def test_stale_temporaries_are_removed(tmp_path):
    stale = tmp_path / f'.epoch_2.pth.abc123{atomic_io.TEMP_SUFFIX}'
    stale.write_bytes(b'PK partial')
    keep = tmp_path / 'epoch_1.pth'
    keep.write_bytes(b'x')
    assert atomic_io.remove_stale_temporaries(str(tmp_path)) == [str(stale)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ['epoch_1.pth']


# -- adapter-only checkpoints and strict loading --------------------------------
@pytest.fixture
def swin_files(tmp_path, tiny_swin_cfg):
    """Two Swin-V2 weight files (timm layout) with different weights."""
    from molt.registry import MODELS
    paths = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        backbone = MODELS.build(tiny_swin_cfg)
        path = tmp_path / f'swin_{seed}.pth'
        torch.save(backbone.encoder.state_dict(), path)
        paths.append(str(path))
    return paths


def _model_with(model_cfg, visual_file, **kwargs):
    from molt.registry import MODELS
    cfg = model_cfg(**kwargs)
    cfg['visual_backbone'] = dict(cfg['visual_backbone'],
                                  pretrained=visual_file)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _save(model, path):
    torch.save(model_checkpoint_state(model), path)
    return str(path)


def test_adapter_only_round_trip(model_cfg, swin_files, tmp_path):
    source = _model_with(model_cfg, swin_files[0])
    checkpoint = model_checkpoint_state(source)
    # The backbone read from a file is left out; the random-weight HTS-AT
    # (no file to refill it from) and everything trainable are kept.
    assert list(checkpoint['frozen']) == ['visual_backbone']
    keys = checkpoint['state_dict'].keys()
    assert not any(k.startswith('visual_backbone.') for k in keys)
    assert any(k.startswith('audio_backbone.') for k in keys)
    trainable = {n for n, p in source.named_parameters() if p.requires_grad}
    assert trainable <= set(keys)
    path = _save(source, tmp_path / 'adapter.pth')

    # A model built with random weights gets its backbone from the file.
    from molt.registry import MODELS
    cfg = model_cfg()
    cfg['visual_backbone'] = dict(cfg['visual_backbone'],
                                  pretrained=swin_files[0])
    target = MODELS.build(cfg)  # init_weights() not called
    load_model_checkpoint(target, path)
    for key, value in source.state_dict().items():
        assert torch.equal(value, target.state_dict()[key]), key


def test_other_backbone_weights_are_refused(model_cfg, swin_files, tmp_path):
    path = _save(_model_with(model_cfg, swin_files[0]), tmp_path / 'a.pth')
    saved = torch.load(path)['frozen']['visual_backbone']['fingerprint']
    other = _model_with(model_cfg, swin_files[1])
    with pytest.raises(IncompatibleCheckpointError) as error:
        load_model_checkpoint(other, path)
    message = str(error.value)
    assert 'visual_backbone' in message and swin_files[1] in message
    assert saved in message
    assert fingerprint(other.visual_backbone) in message


def test_checkpoint_of_another_config_names_the_keys(model_cfg, swin_files,
                                                     tmp_path):
    path = _save(_model_with(model_cfg, swin_files[0]), tmp_path / 'a.pth')
    other = _model_with(
        model_cfg, swin_files[0],
        head=dict(type='AVEHead', num_classes=5, hidden_dims=16),
        fusion=dict(type='AvgTokenFusion'))
    with pytest.raises(IncompatibleCheckpointError) as error:
        load_model_checkpoint(other, path)
    message = str(error.value)
    assert 'unexpected keys' in message and 'visual_fusion.' in message
    assert 'mis-shaped keys' in message and '(3, ' in message


def test_non_strict_loads_what_fits_loudly(model_cfg, swin_files, tmp_path):
    source = _model_with(model_cfg, swin_files[0])
    path = _save(source, tmp_path / 'a.pth')
    other = _model_with(model_cfg, swin_files[0],
                        head=dict(type='AVEHead', num_classes=5,
                                  hidden_dims=16))
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        load_model_checkpoint(other, path, strict=False)
    finally:
        logger.removeHandler(handler)
    warnings = ' '.join(record.getMessage() for record in records)
    assert 'NOT STRICT' in warnings
    assert 'mis-shaped keys: head.class_fc' in warnings
    for name, param in source.adapter.named_parameters():
        assert torch.equal(param, other.adapter.get_parameter(name))


def test_full_checkpoint_still_loads(model_cfg, swin_files, tmp_path):
    """Old-style (or foreign) checkpoints: the whole model, with the
    'module.' prefix of a DDP wrapper."""
    source = _model_with(model_cfg, swin_files[0])
    path = tmp_path / 'full.pth'
    torch.save({'state_dict': {f'module.{k}': v for k, v in
                               source.state_dict().items()}}, path)
    target = _model_with(model_cfg, swin_files[1])
    load_model_checkpoint(target, str(path))
    for key, value in source.state_dict().items():
        assert torch.equal(value, target.state_dict()[key]), key


def test_weights_only_file_is_not_resumable():
    with pytest.raises(NotResumableError, match='--resume'):
        check_resumable({'state_dict': {}, 'meta': {}}, 'best_acc_epoch_3.pth')
    assert check_resumable({'optimizer': {}, 'resume_state': {}}, 'x')
    assert not check_resumable({'optimizer': {}}, 'old_epoch_3.pth')
