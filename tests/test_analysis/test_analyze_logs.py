"""tools/analysis_tools/analyze_logs.py plot_curve on mmengine-style logs."""
import json
import os

import pytest

from molt.analysis.training_logs import load_training_log
from molt_testing import load_script


def _write_session(work_dir, stamp, lines):
    folder = work_dir / stamp / 'vis_data'
    folder.mkdir(parents=True)
    (folder / 'scalars.json').write_text(
        '\n'.join(json.dumps(line) for line in lines) + '\n')
    return str(folder / 'scalars.json')


def _epochs(losses, accuracies, first_epoch=1):
    """mmengine-style lines, 2 iterations per epoch."""
    lines = []
    for epoch, accuracy in enumerate(accuracies, start=first_epoch):
        for it in (2 * epoch - 1, 2 * epoch):
            lines.append(dict(lr=0.1, loss=losses[it - 2 * first_epoch + 1],
                              loss_tor=0.5, time=0.2, epoch=epoch, iter=it,
                              step=it))
        lines.append({'ave/accuracy': accuracy, 'time': 0.1, 'step': epoch})
    return lines


def _write_run(work_dir, losses, accuracies, stamp='20260101_000000'):
    """A work dir as tools/train.py leaves it: the copied config and one
    session's scalars.json."""
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / 'ave_synthetic.py').write_text('# config\n')
    _write_session(work_dir, stamp, _epochs(losses, accuracies))
    return work_dir


def test_resumed_sessions_are_joined_and_test_runs_skipped(tmp_path):
    work = _write_run(tmp_path / 'run', [9, 8, 7, 6, 5, 4], [50, 60, 70])
    # Resumed from the epoch-2 checkpoint: epochs 3-4 again, newer values.
    _write_session(work, '20260102_000000',
                   _epochs([3, 2, 1, 0], [80, 90], first_epoch=3))
    # A test run in the same work dir has no training lines.
    _write_session(work, '20260103_000000', [{'ave/accuracy': 91.0}])
    log = load_training_log(str(work))
    assert [p.split(os.sep)[-3] for p in log.paths] == [
        '20260101_000000', '20260102_000000']
    assert log.series('train', 'loss') == ([1, 2, 3, 4, 5, 6, 7, 8],
                                           [9, 8, 7, 6, 3, 2, 1, 0])
    assert log.series('val', 'ave/accuracy') == ([1, 2, 3, 4],
                                                 [50, 60, 80, 90])
    assert log.by_epoch and log.x_label('val') == 'epoch'


def test_a_restart_from_scratch_is_not_joined(tmp_path):
    work = _write_run(tmp_path / 'run', [9, 8, 7, 6], [50, 60])
    _write_session(work, '20260102_000000', _epochs([1, 1, 1, 1], [70, 80]))
    log = load_training_log(str(work))
    assert len(log.paths) == 1 and log.paths[0].split(os.sep)[-3] == \
        '20260102_000000'
    assert log.series('val', 'ave/accuracy') == ([1, 2], [70, 80])


def test_no_training_log(tmp_path):
    _write_session(tmp_path / 'test_only', '20260101_000000',
                   [{'ave/accuracy': 61.0}])
    with pytest.raises(FileNotFoundError, match='No training log'):
        load_training_log(str(tmp_path / 'test_only'))


def test_plot_curve_several_runs(tmp_path):
    a = _write_run(tmp_path / 'molt', [4, 3, 2, 1], [50, 60])
    b = _write_run(tmp_path / 'mettle', [5, 4, 4, 3], [40, 45])
    tool = load_script('tools/analysis_tools/analyze_logs.py')
    out = str(tmp_path / 'plots' / 'curves.png')
    tool.main(['plot_curve', str(a), str(b), '--keys', 'loss', 'acc',
               '--out', out])
    assert os.path.getsize(out) > 0
    with open(str(tmp_path / 'plots' / 'curves.json')) as f:
        data = json.load(f)
    assert [r['name'] for r in data['runs']] == ['molt', 'mettle']
    assert data['runs'][0]['config'] == 'ave_synthetic.py'
    # 'loss' is exact (not loss_tor); 'acc' finds the validation metric.
    loss, accuracy = data['panels']
    assert (loss['phase'], loss['key'], loss['x']) == ('train', 'loss',
                                                      'iteration')
    assert loss['series'][1] == dict(run='mettle', x=[1, 2, 3, 4],
                                     y=[5, 4, 4, 3])
    assert (accuracy['key'], accuracy['x']) == ('ave/accuracy', 'epoch')
    assert accuracy['series'][0]['y'] == [50, 60]


def test_unknown_key_lists_the_available_ones(tmp_path):
    work = _write_run(tmp_path / 'run', [4, 3, 2, 1], [50, 60])
    tool = load_script('tools/analysis_tools/analyze_logs.py')
    with pytest.raises(KeyError, match='available.*loss_tor'):
        tool.main(['plot_curve', str(work), '--keys', 'mIoU', '--out',
                   str(tmp_path / 'x.png')])
