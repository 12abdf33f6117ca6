"""tools/train.py and tools/test.py end to end on synthetic AVE data."""
import importlib.util
import os.path as osp
from pathlib import Path

import pytest

from molt.datasets.synthetic import make_ave

REPO = Path(__file__).resolve().parents[2]
DEMO = str(REPO / 'configs' / 'demo' / 'ave_synthetic.py')


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        f'molt_tool_{name}', REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def ave_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('ave_synthetic'))
    make_ave(root, num_videos=dict(train=8, val=4, test=4), frame_size=64)
    return root


def options(data_root, max_epochs):
    opts = [f'train_cfg.max_epochs={max_epochs}']
    for split in ('train', 'val', 'test'):
        opts += [
            f'{split}_dataloader.dataset.data_root={data_root}',
            f'{split}_dataloader.batch_size=4',
            f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False',
        ]
    return ['--cfg-options'] + opts


def test_train_resume_and_test(ave_root, tmp_path):
    train, test = load_tool('train'), load_tool('test')
    work_dir = str(tmp_path / 'work')
    runner = train.main([DEMO, '--work-dir', work_dir] +
                        options(ave_root, max_epochs=1))
    assert runner.epoch == 1 and runner.iter == 2
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))

    # --resume without a path continues from the latest checkpoint.
    resumed = train.main([DEMO, '--work-dir', work_dir, '--resume'] +
                         options(ave_root, max_epochs=2))
    assert resumed.epoch == 2 and resumed.iter == 4

    out = str(tmp_path / 'preds.pkl')
    metrics = test.main([
        DEMO, osp.join(work_dir, 'epoch_2.pth'), '--work-dir',
        str(tmp_path / 'test'), '--out', out
    ] + options(ave_root, max_epochs=2))
    assert 0 <= metrics['ave/accuracy'] <= 100
    assert osp.isfile(out)


def test_amp_uses_bf16_autocast(ave_root, tmp_path):
    train = load_tool('train')
    runner = train.main([DEMO, '--work-dir', str(tmp_path), '--amp'] +
                        options(ave_root, max_epochs=1))
    assert type(runner.optim_wrapper).__name__ == 'BF16OptimWrapper'
