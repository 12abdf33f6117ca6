"""tools/train.py and tools/test.py end to end on synthetic AVE data."""
import os.path as osp

import pytest

from molt.datasets.synthetic import make_ave
from molt_testing import REPO, load_script, runner_options

DEMO = str(REPO / 'configs' / 'demo' / 'ave_synthetic.py')


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
