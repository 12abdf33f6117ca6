"""tools/train.py and tools/test.py --show-dir on synthetic AVS data."""
import os
import os.path as osp

import mmcv
import pytest

from molt.datasets.synthetic import make_avs_s4
from molt_testing import REPO, load_script, runner_options

DEMO = str(REPO / 'configs' / 'demo' / 'avs_synthetic.py')
FRAME = 32



@pytest.fixture(scope='module')
def avs_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('avs_synthetic'))
    make_avs_s4(root, num_videos=dict(train=4, val=2, test=3),
                frame_size=FRAME)
    return root


def test_train_then_test_with_show_dir(avs_root, tmp_path):
    train, test = load_script('tools/train.py'), load_script('tools/test.py')
    work_dir = str(tmp_path / 'work')
    runner = train.main([DEMO, '--work-dir', work_dir] +
                        runner_options(avs_root, max_epochs=1))
    assert runner.iter == 1
    show_dir = str(tmp_path / 'vis')
    metrics = test.main([
        DEMO, osp.join(work_dir, 'epoch_1.pth'), '--work-dir',
        str(tmp_path / 'test'), '--show-dir', show_dir
    ] + runner_options(avs_root, max_epochs=1))
    assert set(metrics) == {'avs/jaccard', 'avs/fscore'}
    assert 0 <= metrics['avs/jaccard'] <= 100
    assert sorted(os.listdir(show_dir)) == [
        'test0000.png', 'test0001.png', 'test0002.png']
    # Prediction row over ground-truth row, five frames each.
    drawing = mmcv.imread(osp.join(show_dir, 'test0000.png'))
    assert drawing.shape == (2 * FRAME, 5 * FRAME, 3)


def test_show_dir_needs_a_visualization_hook():
    test = load_script('tools/test.py')
    args = test.parse_args([
        str(REPO / 'configs' / 'demo' / 'ave_synthetic.py'), 'x.pth',
        '--show-dir', 'vis'
    ])
    with pytest.raises(ValueError, match='no default_hooks.visualization'):
        test.build_config(args)
