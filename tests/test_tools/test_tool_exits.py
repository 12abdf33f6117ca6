"""Every way a tool stops ends on molt's message: data workers are shut
down before the process exits, so torch never reports them as killed
after it (the SIGTERM stop is checked in test_train_test_tools.py)."""
import subprocess
import sys
from pathlib import Path

from molt.datasets.synthetic import make_ave
from molt_testing import REPO, runner_options

DEMO = str(REPO / 'configs' / 'demo' / 'ave_synthetic.py')


def _with_workers(options):
    return options + [
        f'{split}_dataloader.{key}' for split in ('train', 'val')
        for key in ('num_workers=2', 'persistent_workers=True')
    ]


def test_a_data_error_is_the_last_thing_printed(tmp_path):
    root = str(tmp_path / 'ave')
    make_ave(root, num_videos=dict(train=8, val=2, test=2), frame_size=64)
    # A 0-byte frame (a copy cut short) in the training split.
    video_id = (Path(root) / 'trainSet.txt').read_text().splitlines()[3]
    video_id = video_id.split('&')[1]
    frame = sorted((Path(root) / 'frames' / video_id).iterdir())[4]
    frame.write_bytes(b'')
    done = subprocess.run(
        [sys.executable, 'tools/train.py', DEMO, '--work-dir',
         str(tmp_path / 'work')] +
        _with_workers(runner_options(root, max_epochs=1)),
        cwd=str(REPO), capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr[-3000:]
    last = done.stderr.strip().splitlines()[-1]
    assert frame.name in last and video_id in last, done.stderr[-3000:]
    assert 'killed by signal' not in done.stderr
    assert 'Exception ignored' not in done.stderr, done.stderr[-3000:]
