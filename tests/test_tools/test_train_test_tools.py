"""tools/train.py and tools/test.py end to end on synthetic AVE data, and
the checkpoints they write and read."""
import math
import os
import os.path as osp
import re
import shutil
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from molt.datasets.synthetic import make_ave
from molt.utils import (IncompatibleCheckpointError, NotResumableError,
                        register_all_modules)
from molt.utils import atomic_io
from molt_testing import REPO, load_script, runner_options

DEMO = str(REPO / 'configs' / 'demo' / 'ave_synthetic.py')
METTLE_DEMO = str(REPO / 'configs' / 'demo' / 'ave_synthetic_mettle.py')


@pytest.fixture(scope='module')
def ave_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('ave_synthetic'))
    make_ave(root, num_videos=dict(train=8, val=4, test=4), frame_size=64)
    return root


def test_train_resume_and_test(ave_root, tmp_path):
    train, test = load_script('tools/train.py'), load_script('tools/test.py')
    work_dir = str(tmp_path / 'work')
    runner = train.main([DEMO, '--work-dir', work_dir] +
                        runner_options(ave_root, max_epochs=1))
    assert runner.epoch == 1 and runner.iter == 2
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))

    # --resume without a path continues from the latest checkpoint.
    resumed = train.main([DEMO, '--work-dir', work_dir, '--resume'] +
                         runner_options(ave_root, max_epochs=2))
    assert resumed.epoch == 2 and resumed.iter == 4

    out = str(tmp_path / 'preds.pkl')
    metrics = test.main([
        DEMO, osp.join(work_dir, 'epoch_2.pth'), '--work-dir',
        str(tmp_path / 'test'), '--out', out
    ] + runner_options(ave_root, max_epochs=2))
    assert 0 <= metrics['ave/accuracy'] <= 100
    assert osp.isfile(out)


def test_amp_uses_bf16_autocast(ave_root, tmp_path):
    train = load_script('tools/train.py')
    runner = train.main([DEMO, '--work-dir', str(tmp_path), '--amp'] +
                        runner_options(ave_root, max_epochs=1))
    assert type(runner.optim_wrapper).__name__ == 'BF16OptimWrapper'


# -- adapter-only checkpoints end to end ----------------------------------------
def _visual_backbone_file(path: str, seed: int) -> str:
    """The demo's Swin-V2 with random weights, saved as a pretrained file
    (timm layout)."""
    from molt.registry import MODELS
    register_all_modules()
    torch.manual_seed(seed)
    cfg = Config.fromfile(DEMO)
    torch.save(MODELS.build(cfg.model.visual_backbone).encoder.state_dict(),
               path)
    return path


def _options(ave_root, max_epochs, visual_file, *extra):
    options = runner_options(ave_root, max_epochs)
    return options + [f'model.visual_backbone.pretrained={visual_file}',
                      *extra]


@pytest.fixture(scope='module')
def run_a(ave_root, tmp_path_factory):
    """One epoch of the demo with its visual backbone read from a file."""
    root = tmp_path_factory.mktemp('run_a')
    files = SimpleNamespace(
        visual=_visual_backbone_file(str(root / 'swin_a.pth'), seed=1),
        other_visual=_visual_backbone_file(str(root / 'swin_b.pth'), seed=2),
        work_dir=str(root / 'work'))
    load_script('tools/train.py').main(
        [DEMO, '--work-dir', files.work_dir] +
        _options(ave_root, 1, files.visual))
    files.epoch = osp.join(files.work_dir, 'epoch_1.pth')
    (files.best, ) = [
        osp.join(files.work_dir, name)
        for name in os.listdir(files.work_dir) if name.startswith('best_')
    ]
    return files


def _snapshot(directory: str) -> dict:
    """Every file below ``directory`` with its bytes."""
    return {
        osp.relpath(osp.join(top, name), directory):
        open(osp.join(top, name), 'rb').read()
        for top, _, names in os.walk(directory) for name in names
    }


def _checkpoints(directory: str) -> dict:
    """The checkpoints of a work dir and ``last_checkpoint``, with their
    bytes."""
    return {
        name: open(osp.join(directory, name), 'rb').read()
        for name in os.listdir(directory)
        if name.endswith('.pth') or name == 'last_checkpoint'
    }


def test_checkpoint_is_adapter_only(run_a):
    checkpoint = torch.load(run_a.epoch, weights_only=False)
    assert checkpoint['meta']['checkpoint_format'] == 'molt-adapter-only-v1'
    assert checkpoint['frozen']['visual_backbone']['pretrained'] == \
        run_a.visual
    assert not any(k.startswith('visual_backbone.')
                   for k in checkpoint['state_dict'])
    assert {'optimizer', 'param_schedulers', 'resume_state'} <= set(checkpoint)
    best = torch.load(run_a.best, weights_only=False)
    assert 'optimizer' not in best and 'resume_state' not in best
    with open(osp.join(run_a.work_dir, 'last_checkpoint')) as f:
        assert f.read() == run_a.epoch


def test_test_tool_refills_the_backbone_and_refuses_other_weights(
        run_a, ave_root, tmp_path):
    test = load_script('tools/test.py')
    metrics = test.main([DEMO, run_a.best, '--work-dir', str(tmp_path / 't')] +
                        _options(ave_root, 1, run_a.visual))
    assert 0 <= metrics['ave/accuracy'] <= 100
    recorded = torch.load(
        run_a.best, weights_only=False)['frozen']['visual_backbone']
    with pytest.raises(IncompatibleCheckpointError) as error:
        test.main([DEMO, run_a.best, '--work-dir', str(tmp_path / 'u')] +
                  _options(ave_root, 1, run_a.other_visual))
    message = str(error.value)
    assert 'visual_backbone' in message and run_a.other_visual in message
    assert recorded['fingerprint'] in message
    assert re.search(r'fingerprint [0-9a-f]{64} \(from .*swin_b', message)


def test_a_checkpoint_of_another_config_is_refused(run_a, ave_root,
                                                   tmp_path):
    """By tools/test.py and by load_from (MoLT weights, Mettle config)."""
    test = load_script('tools/test.py')
    with pytest.raises(IncompatibleCheckpointError) as error:
        test.main([METTLE_DEMO, run_a.best, '--work-dir', str(tmp_path)] +
                  _options(ave_root, 1, run_a.visual))
    message = str(error.value)
    assert 'missing keys' in message and 'unexpected keys' in message
    assert 'adapter.' in message
    train = load_script('tools/train.py')
    with pytest.raises(IncompatibleCheckpointError, match='missing keys'):
        train.main([METTLE_DEMO, '--work-dir', str(tmp_path)] +
                   _options(ave_root, 1, run_a.visual,
                            f'load_from={run_a.best}'))


def test_resume_refuses_a_weights_only_file(run_a, ave_root, tmp_path):
    train = load_script('tools/train.py')
    with pytest.raises(NotResumableError) as error:
        train.main([DEMO, '--work-dir', str(tmp_path), '--resume', run_a.best]
                   + _options(ave_root, 2, run_a.visual))
    message = str(error.value)
    assert run_a.best in message and 'load_from' in message


class _ForceNewBest(Hook):
    """Makes the next validation a new best (so the previous best file is
    due for removal)."""

    priority = 'VERY_HIGH'

    def before_val_epoch(self, runner):
        runner.message_hub.update_info('best_score', -math.inf)


def _runner(argv):
    train = load_script('tools/train.py')
    return train.make_runner(train.parse_args(argv))


def test_resuming_another_run_never_touches_its_files(run_a, ave_root,
                                                      tmp_path):
    before = _snapshot(run_a.work_dir)
    runner = _runner([DEMO, '--work-dir', str(tmp_path), '--resume',
                      run_a.epoch] + _options(ave_root, 2, run_a.visual))
    runner.register_hook(_ForceNewBest())
    runner.train()
    assert runner.iter == 4
    assert _snapshot(run_a.work_dir) == before
    assert any(name.startswith('best_') for name in os.listdir(tmp_path))


def test_interrupted_saves_leave_a_resumable_work_dir(run_a, ave_root,
                                                      tmp_path, monkeypatch):
    work_dir = str(tmp_path / 'work')
    shutil.copytree(run_a.work_dir, work_dir)
    epoch_1, best_1 = (osp.join(work_dir, osp.basename(p))
                       for p in (run_a.epoch, run_a.best))
    # As if run A had run here: its paths point into the copy.
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(epoch_1)
    checkpoint = torch.load(epoch_1, weights_only=False)
    checkpoint['message_hub']['runtime_info']['best_ckpt'] = best_1
    torch.save(checkpoint, epoch_1)
    before = _checkpoints(work_dir)

    def failing_save(kind, fails):
        """torch.save for atomic_io that writes a few bytes of the files
        ``fails(checkpoint)`` picks, then fails."""
        def save(obj, f):
            if fails(obj):
                f.write(b'PK\x03\x04 the first bytes of a checkpoint')
                raise OSError(f'simulated failure writing the {kind}')
            torch.save(obj, f)
        return SimpleNamespace(save=save)

    options = [DEMO, '--work-dir', work_dir, '--resume']
    # 1. The epoch 2 checkpoint fails half-way (max_keep_ckpts=1: mmengine
    # would have removed epoch_1.pth before writing it).
    monkeypatch.setattr(atomic_io, 'torch', failing_save(
        'epoch checkpoint', lambda c: 'optimizer' in c))
    with pytest.raises(OSError, match='epoch checkpoint'):
        _runner(options + _options(ave_root, 2, run_a.visual)).train()
    assert _checkpoints(work_dir) == before

    # 2. epoch_2 is written, then the new best file fails half-way.
    monkeypatch.setattr(atomic_io, 'torch', failing_save(
        'best file', lambda c: 'optimizer' not in c))
    runner = _runner(options + _options(ave_root, 2, run_a.visual))
    runner.register_hook(_ForceNewBest())
    with pytest.raises(OSError, match='best file'):
        runner.train()
    assert open(best_1, 'rb').read() == before[osp.basename(best_1)]
    assert not osp.exists(epoch_1)  # superseded by the complete epoch_2
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read() == osp.join(work_dir, 'epoch_2.pth')

    # 3. --resume continues: epoch 2's validation, interrupted before, runs.
    monkeypatch.undo()
    runner = _runner(options + _options(ave_root, 2, run_a.visual))
    runner.register_hook(_ForceNewBest())
    runner.train()
    assert runner.iter == 4
    names = os.listdir(work_dir)
    assert 'best_ave_accuracy_epoch_2.pth' in names
    assert osp.basename(best_1) not in names
    assert not [n for n in names if n.endswith(atomic_io.TEMP_SUFFIX)]


def test_sigterm_saves_a_resumable_checkpoint_and_exits(ave_root, tmp_path):
    """SIGTERM to the whole process group (as SLURM sends it), data workers
    included: a resumable checkpoint, exit code 143, no process left."""
    work_dir = str(tmp_path / 'work')
    options = runner_options(ave_root, max_epochs=20) + [
        'default_hooks.logger.interval=1',
        'train_dataloader.num_workers=2',
        'train_dataloader.persistent_workers=True'
    ]
    process = subprocess.Popen(
        [sys.executable, 'tools/train.py', DEMO, '--work-dir', work_dir] +
        options, cwd=str(REPO), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        for line in process.stdout:
            if re.search(r'Epoch\(train\)\s+\[1\]\[\s*1/2\]', line):
                break
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=300)[0]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 128 + signal.SIGTERM, output[-3000:]
    # molt's hint is the last thing printed: the data workers were shut
    # down before exit, not reported by torch as killed afterwards.
    assert 'Continue with: python tools/train.py' in output.strip(
    ).splitlines()[-1], output[-3000:]
    assert 'killed by signal' not in output, output[-3000:]
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        saved = f.read()
    assert re.fullmatch(r'.*/interrupted_iter_\d+\.pth', saved)
    checkpoint = torch.load(saved, weights_only=False)
    assert {'optimizer', 'resume_state'} <= set(checkpoint)
    deadline = time.time() + 30
    while time.time() < deadline:  # the data workers are gone too
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    else:
        pytest.fail('processes of the stopped run are still alive')

    train = load_script('tools/train.py')
    resumed = train.main([DEMO, '--work-dir', work_dir, '--resume'] +
                         runner_options(ave_root, max_epochs=2))
    assert resumed.iter == 4
    assert checkpoint['meta']['iter'] <= 4
    assert not osp.exists(saved)  # superseded by epoch_2.pth


def test_a_finished_run_exits_without_worker_errors(ave_root, tmp_path):
    """Persistent data workers are shut down by their loaders when the
    tool ends, not killed at interpreter exit (which torch reports as a
    worker failure on stderr)."""
    options = runner_options(ave_root, max_epochs=1) + [
        f'{split}_dataloader.{key}'
        for split in ('train', 'val') for key in ('num_workers=2',
                                                  'persistent_workers=True')
    ]
    done = subprocess.run(
        [sys.executable, 'tools/train.py', DEMO, '--work-dir',
         str(tmp_path / 'work')] + options,
        cwd=str(REPO), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # Without collect_finished_runners() torch's atexit callback reports
    # every persistent worker as "killed by signal". (An intermittent
    # "Exception ignored in: <function _ConnectionBase.__del__>", a pipe
    # closed twice at exit, is a different, open matter.)
    assert 'killed by signal' not in done.stderr, done.stderr[-3000:]
    assert 'Exception ignored in atexit' not in done.stderr, (
        done.stderr[-3000:])
