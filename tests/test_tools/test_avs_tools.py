"""tools/train.py and tools/test.py --show-dir on synthetic AVS data."""
import importlib.util
import os
import os.path as osp
from pathlib import Path

import mmcv
import pytest

from molt.datasets.synthetic import make_avs_s4

REPO = Path(__file__).resolve().parents[2]
DEMO = str(REPO / 'configs' / 'demo' / 'avs_synthetic.py')
FRAME = 32

# load_tool() and options() of the AVE tool tests (test modules are not
# importable in importlib mode).
_spec = importlib.util.spec_from_file_location(
    'ave_tool_tests', REPO / 'tests' / 'test_tools' /
    'test_train_test_tools.py')
ave_tool_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ave_tool_tests)
load_tool, options = ave_tool_tests.load_tool, ave_tool_tests.options


@pytest.fixture(scope='module')
def avs_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('avs_synthetic'))
    make_avs_s4(root, num_videos=dict(train=4, val=2, test=3),
                frame_size=FRAME)
    return root


def test_train_then_test_with_show_dir(avs_root, tmp_path):
    train, test = load_tool('train'), load_tool('test')
    work_dir = str(tmp_path / 'work')
    runner = train.main([DEMO, '--work-dir', work_dir] +
                        options(avs_root, max_epochs=1))
    assert runner.iter == 1
    show_dir = str(tmp_path / 'vis')
    metrics = test.main([
        DEMO, osp.join(work_dir, 'epoch_1.pth'), '--work-dir',
        str(tmp_path / 'test'), '--show-dir', show_dir
    ] + options(avs_root, max_epochs=1))
    assert set(metrics) == {'avs/jaccard', 'avs/fscore'}
    assert 0 <= metrics['avs/jaccard'] <= 100
    assert sorted(os.listdir(show_dir)) == [
        'test0000.png', 'test0001.png', 'test0002.png']
    # Prediction row over ground-truth row, five frames each.
    drawing = mmcv.imread(osp.join(show_dir, 'test0000.png'))
    assert drawing.shape == (2 * FRAME, 5 * FRAME, 3)


def test_show_dir_needs_a_visualization_hook():
    test = load_tool('test')
    args = test.parse_args([
        str(REPO / 'configs' / 'demo' / 'ave_synthetic.py'), 'x.pth',
        '--show-dir', 'vis'
    ])
    with pytest.raises(ValueError, match='no default_hooks.visualization'):
        test.build_config(args)
