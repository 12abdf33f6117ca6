"""Exact resume: a run stopped (by SIGTERM mid-epoch, or killed without a
save) and resumed ends bit-identical to an uninterrupted one on the CPU."""
import os
import random
import signal
import time
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from torch.utils.data import DataLoader, Dataset

from mmengine.dataset import DefaultSampler

from molt.datasets.synthetic import make_ave
from molt.engine.loops import (ResumableSampler, TrainingInterrupted,
                               enable_sample_seeding)
from molt.engine.random_state import capture_rng_state
from molt.engine.runner import NothingToResumeError, latest_checkpoint
from molt_testing import REPO, load_script, runner_options

DEMO = str(REPO / 'configs' / 'demo' / 'ave_synthetic.py')
ITERS_PER_EPOCH = 2  # 4 training videos, batches of 2


@pytest.fixture(scope='module')
def ave_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('ave_synthetic'))
    make_ave(root, num_videos=dict(train=4, val=2, test=2), frame_size=64)
    return root


class _Interrupt(Hook):
    """After training iteration ``at`` (1-based): send this process
    ``signum``, or raise (a kill: nothing is saved)."""

    priority = 'LOWEST'

    def __init__(self, at: int, signum=None):
        self.at = at
        self.signum = signum

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 != self.at:
            return
        if self.signum is None:
            raise RuntimeError('simulated kill')
        os.kill(os.getpid(), self.signum)


def _train(work_dir, ave_root, *extra, interrupt=None, workers=0):
    train = load_script('tools/train.py')
    options = runner_options(ave_root, max_epochs=2, batch_size=2)
    options += [f'train_dataloader.num_workers={workers}',
                f'train_dataloader.persistent_workers={workers > 0}']
    runner = train.make_runner(
        train.parse_args([DEMO, '--work-dir', str(work_dir), *extra] +
                         options))
    if interrupt is not None:
        runner.register_hook(interrupt)
    runner.train()
    return runner


def _trainable_state(runner):
    return {
        name: param.detach().clone()
        for name, param in runner.model.named_parameters()
        if param.requires_grad
    }


def test_stopped_and_resumed_run_is_bit_identical(ave_root, tmp_path):
    reference = _trainable_state(_train(tmp_path / 'reference', ave_root))

    work_dir = tmp_path / 'interrupted'
    # SIGTERM after the first batch: saves mid-epoch and stops.
    with pytest.raises(TrainingInterrupted) as stop:
        _train(work_dir, ave_root,
               interrupt=_Interrupt(at=1, signum=signal.SIGTERM), workers=2)
    assert stop.value.exit_code == 128 + signal.SIGTERM
    saved = torch.load(stop.value.checkpoint, weights_only=False)
    assert saved['meta']['iter'] == 1
    assert saved['resume_state']['batch_in_epoch'] == 1
    # Resumed mid-epoch, then killed in epoch 2 without a save.
    with pytest.raises(RuntimeError, match='simulated kill'):
        _train(work_dir, ave_root, '--resume',
               interrupt=_Interrupt(at=ITERS_PER_EPOCH + 1))
    assert not os.path.exists(stop.value.checkpoint)  # epoch_1 replaced it
    assert not (work_dir / 'epoch_2.pth').exists()

    # The guard: epoch_1.pth without its resume state (as mmengine writes
    # them) resumes with other random draws (the demo model has dropout),
    # so the weights end up different.
    legacy_dir = tmp_path / 'legacy'
    legacy_dir.mkdir()
    checkpoint = torch.load(work_dir / 'epoch_1.pth', weights_only=False)
    del checkpoint['resume_state']
    torch.save(checkpoint, legacy_dir / 'epoch_1.pth')
    legacy = _trainable_state(_train(legacy_dir, ave_root, '--resume'))
    assert any(not torch.equal(legacy[k], reference[k]) for k in reference)

    # The run itself resumes from epoch_1.pth, with data workers this time.
    resumed = _train(work_dir, ave_root, '--resume', workers=2)
    assert resumed.iter == 2 * ITERS_PER_EPOCH
    state = _trainable_state(resumed)
    assert state.keys() == reference.keys()
    differing = [k for k in state if not torch.equal(state[k], reference[k])]
    assert not differing, f'{len(differing)} tensors differ: {differing[:5]}'


class _RandomDraws(Dataset):
    """Each sample is what Python, NumPy and torch draw for it."""

    def __len__(self):
        return 6

    def __getitem__(self, index):
        return torch.tensor([
            index, random.random(), np.random.rand(),
            torch.rand(()).item()
        ], dtype=torch.float64)


def _epochs(workers: int, start: int = 0, epochs=(0, 1)):
    dataset = _RandomDraws()
    enable_sample_seeding(dataset)
    sampler = ResumableSampler(dataset, DefaultSampler(dataset, seed=7), 7)
    # A generator of its own, as the train loop gives its loader.
    loader = DataLoader(dataset, batch_size=2, sampler=sampler,
                        num_workers=workers, persistent_workers=workers > 0,
                        generator=torch.Generator())
    out = []
    for epoch in epochs:
        sampler.set_epoch(epoch)
        sampler.start_at(start if epoch == epochs[0] else 0)
        out.append(torch.cat(list(loader)))
    return out


def test_sample_draws_do_not_depend_on_workers_or_resume():
    before = capture_rng_state()
    in_process = _epochs(workers=0)
    after = capture_rng_state()
    # Loading in the main process leaves the global generators untouched.
    assert torch.equal(before['torch'], after['torch'])
    assert before['python'] == after['python']
    with_workers = _epochs(workers=2)
    for a, b in zip(in_process, with_workers):
        assert torch.equal(a, b)
    # Another epoch: another order and other draws.
    assert not torch.equal(in_process[0], in_process[1])
    # Resumed at sample 2 of epoch 1 (workers restarted): the same tail.
    resumed = _epochs(workers=2, start=2, epochs=(1, ))
    assert torch.equal(resumed[0], in_process[1][2:])


def test_latest_checkpoint_skips_stale_pointers_and_damaged_files(tmp_path):
    """--resume in a work dir of an older molt, or one edited by hand:
    ``last_checkpoint`` names a removed file and the newest file is cut
    short."""
    torch.save({'optimizer': {}}, tmp_path / 'epoch_1.pth')
    time.sleep(0.01)
    (tmp_path / 'epoch_2.pth').write_bytes(
        (tmp_path / 'epoch_1.pth').read_bytes()[:100])
    torch.save({}, tmp_path / 'best_acc_epoch_2.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    warnings = []
    logger = SimpleNamespace(warning=warnings.append)
    assert latest_checkpoint(str(tmp_path), logger) == str(
        tmp_path / 'epoch_1.pth')
    assert 'epoch_3.pth' in warnings[0] and 'not found' in warnings[0]
    assert 'epoch_2.pth' in warnings[1] and 'truncated' in warnings[1]
    # Nothing readable left: stop, naming every file passed over.
    (tmp_path / 'epoch_1.pth').unlink()
    with pytest.raises(NothingToResumeError) as error:
        latest_checkpoint(str(tmp_path), logger)
    assert 'epoch_3.pth' in str(error.value)
    assert 'epoch_2.pth' in str(error.value)
    # No checkpoint at all (best files are not resumed from): a first start.
    for name in ('epoch_2.pth', 'last_checkpoint'):
        (tmp_path / name).unlink()
    assert latest_checkpoint(str(tmp_path), logger) is None
