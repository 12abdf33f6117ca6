"""A checkpoint is data, not code: a pickle payload is refused on every path
that reads a checkpoint, before it runs; ``--resume`` never starts over
silently and a new run never overwrites an earlier one's files."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from molt.datasets.synthetic import make_ave
from molt.engine.runner import NothingToResumeError
from molt.registry import MODELS
from molt.utils import (UnsafeCheckpointError, allow_unsafe_load,
                        load_from_local, register_all_modules)
from molt.utils.checkpoint import load_model_checkpoint
from molt_testing import REPO, load_script, runner_options, write_test_video

DEMO = str(REPO / 'configs' / 'demo' / 'ave_synthetic.py')


class _CreatesAFile:
    """Unpickling this calls ``open(marker, 'w')``: a stand-in for any
    code a hostile checkpoint could run."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return open, (self.marker, 'w')


@pytest.fixture(scope='module')
def ave_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('ave_synthetic'))
    make_ave(root, num_videos=dict(train=4, val=2, test=2), frame_size=64)
    return root


@pytest.fixture
def hostile(tmp_path):
    """A checkpoint with a real-looking state dict and a payload; the
    marker file it would create."""
    marker = tmp_path / 'pwned'
    path = tmp_path / 'hostile.pth'
    torch.save(
        dict(state_dict={'w': torch.ones(2)},
             meta=dict(note=_CreatesAFile(str(marker)))), path)
    return str(path), marker


def _refused(error: BaseException, marker) -> None:
    assert not marker.exists(), 'the payload ran'
    assert '--unsafe-load' in str(error)
    assert 'io.open' in str(error)  # what the payload would call


def test_the_loader_refuses_a_payload_and_runs_it_only_on_opt_in(hostile):
    path, marker = hostile
    with pytest.raises(UnsafeCheckpointError) as error:
        load_from_local(path)
    _refused(error.value, marker)
    allow_unsafe_load()
    try:
        load_from_local(path)
    finally:
        allow_unsafe_load(False)
    assert marker.exists()  # the opt-in does what it says


def _train(argv):
    return load_script('tools/train.py').main(argv)


@pytest.mark.parametrize('how', ['load_from', 'resume_path', 'planted'])
def test_train_refuses_a_payload(how, hostile, ave_root, tmp_path):
    path, marker = hostile
    work_dir = tmp_path / 'work'
    argv = [DEMO, '--work-dir', str(work_dir)]
    options = runner_options(ave_root, max_epochs=1)
    if how == 'load_from':
        options.append(f'load_from={path}')
    elif how == 'resume_path':
        argv += ['--resume', path]
    else:  # a file planted in the work dir, found by --resume
        work_dir.mkdir()
        os.replace(path, work_dir / 'epoch_9.pth')
        argv.append('--resume')
    with pytest.raises(UnsafeCheckpointError) as error:
        _train(argv + options)
    _refused(error.value, marker)


def test_test_tool_refuses_a_payload(hostile, ave_root, tmp_path):
    path, marker = hostile
    test = load_script('tools/test.py')
    with pytest.raises(UnsafeCheckpointError) as error:
        test.main([DEMO, path, '--work-dir', str(tmp_path)] +
                  runner_options(ave_root, max_epochs=1))
    _refused(error.value, marker)


def test_model_loading_and_backbone_weights_refuse_a_payload(hostile):
    path, marker = hostile
    register_all_modules()
    cfg = Config.fromfile(DEMO)
    with pytest.raises(UnsafeCheckpointError) as error:
        load_model_checkpoint(MODELS.build(cfg.model), path)
    _refused(error.value, marker)
    # Backbone weights (pretrained=) are read by init_weights().
    backbone = MODELS.build(dict(cfg.model.visual_backbone, pretrained=path))
    with pytest.raises(UnsafeCheckpointError) as error:
        backbone.init_weights()
    _refused(error.value, marker)


def test_infer_tool_refuses_a_payload_and_names_the_opt_in(
        hostile, tmp_path):
    path, marker = hostile
    video = write_test_video(str(tmp_path / 'clip.mp4'), seconds=2)
    done = subprocess.run(
        [sys.executable, 'tools/infer.py', DEMO, path, video, '--out-dir',
         str(tmp_path / 'out')],
        cwd=str(REPO), capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert not marker.exists()
    last = done.stderr.strip().splitlines()[-1]
    assert 'Cannot start inference' in last and '--unsafe-load' in last


# -- resuming and earlier runs ----------------------------------------------
def test_resume_with_nothing_readable_stops_and_keeps_every_file(
        ave_root, tmp_path):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    (work_dir / 'epoch_3.pth').write_bytes(b'PK\x03\x04 cut short')
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_3.pth'))
    best = work_dir / 'best_ave_accuracy_epoch_1.pth'
    torch.save({'state_dict': {}}, best)

    def checkpoints():
        return {p.name: p.read_bytes() for p in work_dir.iterdir()
                if p.suffix == '.pth' or p.name == 'last_checkpoint'}

    before = checkpoints()
    with pytest.raises(NothingToResumeError,
                       match='epoch_3.pth.*truncated') as error:
        _train([DEMO, '--work-dir', str(work_dir), '--resume'] +
               runner_options(ave_root, max_epochs=1))
    assert 'Nothing was trained' in str(error.value)
    assert checkpoints() == before
    assert not (work_dir / 'earlier_runs').exists()


def test_a_new_run_moves_an_earlier_run_aside(ave_root, tmp_path):
    work_dir = tmp_path / 'work'
    _train([DEMO, '--work-dir', str(work_dir)] +
           runner_options(ave_root, max_epochs=1))
    earlier = {
        name: (work_dir / name).read_bytes()
        for name in os.listdir(work_dir) if name.endswith('.pth')
    }
    assert any(name.startswith('best_') for name in earlier)
    # The same command again, without --resume: a new run.
    _train([DEMO, '--work-dir', str(work_dir)] +
           runner_options(ave_root, max_epochs=1))
    (moved, ) = (work_dir / 'earlier_runs').iterdir()
    for name, content in earlier.items():
        assert (moved / name).read_bytes() == content
    assert (moved / 'last_checkpoint').is_file()
    # The new run wrote its own files, and points at them.
    assert osp.isfile(work_dir / 'epoch_1.pth')
    assert (work_dir / 'last_checkpoint').read_text() == str(
        work_dir / 'epoch_1.pth')
