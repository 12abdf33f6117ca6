"""torch >= 2.6 checkpoint loading: save -> resume -> test with mmengine."""
import pickle

import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from molt.utils import (UntrustedCheckpointError, load_from_local,
                        trust_checkpoint, trust_directory)


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


def make_runner(work_dir, max_epochs, **kwargs):
    loader = dict(
        dataset=ToyData(),
        sampler=dict(type='DefaultSampler', shuffle=False),
        batch_size=4,
        num_workers=0)
    return Runner(
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


def test_save_resume_test(tmp_path):
    work_dir = tmp_path / 'run'
    make_runner(work_dir, max_epochs=2).train()
    saved = work_dir / 'epoch_2.pth'
    # The reason for the fix: plain torch.load refuses mmengine's files.
    with pytest.raises(pickle.UnpicklingError):
        torch.load(saved, weights_only=True)
    # Nobody vouched for the file yet: refused with a message saying how.
    with pytest.raises(UntrustedCheckpointError, match='trust_checkpoint'):
        load_from_local(str(saved))

    trust_directory(work_dir)
    resumed = make_runner(work_dir, max_epochs=3, resume=True)
    resumed.train()
    assert resumed.epoch == 3
    assert resumed.iter == 6  # two iterations per epoch, epochs 1-2 resumed
    weights = load_from_local(str(work_dir / 'epoch_3.pth'))['state_dict']

    tester = make_runner(
        tmp_path / 'test', max_epochs=1,
        load_from=str(work_dir / 'epoch_3.pth'))
    metrics = tester.test()
    assert set(metrics) == {'mse'}
    torch.testing.assert_close(tester.model.linear.weight,
                               weights['linear.weight'])


def test_plain_state_dicts_need_no_trust(tmp_path):
    path = tmp_path / 'weights.pth'
    torch.save({'w': torch.ones(2)}, path)
    assert torch.equal(load_from_local(str(path))['w'], torch.ones(2))


def test_trusted_single_file(tmp_path):
    path = tmp_path / 'objects.pth'
    torch.save({'meta': object.__new__(ToyMetric)}, path)
    with pytest.raises(UntrustedCheckpointError):
        load_from_local(str(path))
    trust_checkpoint(path)
    assert isinstance(load_from_local(str(path))['meta'], ToyMetric)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        load_from_local(str(tmp_path / 'absent.pth'))
