"""End-to-end tests of tools/dataset_converters/ave.py (fake AVE release)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from molt_testing import (REPO, load_script, write_corrupt_video,
                          write_test_video)

SCRIPT = REPO / 'tools' / 'dataset_converters' / 'ave.py'
ave = load_script('tools/dataset_converters/ave.py')

GOOD_IDS = ('RUhOCu3LNXM', '-1A2b3C4d5e')
CORRUPT_ID = 'bRoKeN00000'
SPLITS = {
    'trainSet.txt': [
        'Church bell&RUhOCu3LNXM&good&0&10',
        'Bark&-1A2b3C4d5e&good&1&3',
    ],
    'valSet.txt': ['Clock&bRoKeN00000&good&2&9'],
    # The same video in a second row, as in the real release.
    'testSet.txt': ['Male speech, man speaking&RUhOCu3LNXM&good&4&6'],
}


def make_release(root: Path, video_subdir: str) -> Path:
    """Writes the annotation files and three 2 s videos (one corrupt)."""
    root.mkdir()
    rows = [row for split_rows in SPLITS.values() for row in split_rows]
    (root / 'Annotations.txt').write_text(
        '\n'.join(['Category&VideoID&Quality&StartTime&EndTime'] + rows) +
        '\n')
    for name, split_rows in SPLITS.items():
        (root / name).write_text('\n'.join(split_rows) + '\n')
    video_dir = root / video_subdir
    video_dir.mkdir(exist_ok=True)
    for video_id in GOOD_IDS:
        write_test_video(
            str(video_dir / f'{video_id}.mp4'), seconds=2.0)
    write_corrupt_video(str(video_dir / f'{CORRUPT_ID}.mp4'))
    return video_dir


def check_outputs(raw: Path, out: Path) -> None:
    for name in ave.ANNOTATION_FILES:
        assert (out / name).read_bytes() == (raw / name).read_bytes()
    assert sorted(os.listdir(out / 'frames')) == sorted(GOOD_IDS)
    assert sorted(os.listdir(out / 'audio')) == sorted(
        f'{video_id}.wav' for video_id in GOOD_IDS)
    for video_id in GOOD_IDS:
        assert sorted(os.listdir(out / 'frames' / video_id)) == [
            '00.jpg', '01.jpg'
        ]
        info = sf.info(str(out / 'audio' / f'{video_id}.wav'))
        assert (info.samplerate, info.channels) == (32000, 1)
    failed = (out / 'unreadable_videos.txt').read_text().splitlines()
    assert len(failed) == 1
    video_id, reason = failed[0].split('\t')
    assert video_id == CORRUPT_ID and f'{CORRUPT_ID}.mp4' in reason


def test_ave_converter_end_to_end_and_resume(tmp_path, capsys):
    raw = tmp_path / 'AVE_Dataset'
    video_dir = make_release(raw, 'AVE')
    out = tmp_path / 'ave'
    argv = [str(raw), str(out), '--short-side', '24', '--nproc', '2']
    ave.main(argv)
    check_outputs(raw, out)
    report = capsys.readouterr().out
    assert '2 converted' in report and CORRUPT_ID in report

    # Resume: done videos are skipped; fixing the broken one clears the list.
    write_test_video(
        str(video_dir / f'{CORRUPT_ID}.mp4'), seconds=2.0)
    ave.main(argv)
    report = capsys.readouterr().out
    assert '1 converted, 2 already done, 0 failed' in report
    assert not (out / 'unreadable_videos.txt').exists()
    assert (out / 'audio' / f'{CORRUPT_ID}.wav').is_file()


def test_ave_converter_script_flat_layout(tmp_path):
    # Videos directly in RAW_DIR; run as a script, which must exit 0 even
    # though one video fails.
    raw = tmp_path / 'raw'
    make_release(raw, '.')
    out = tmp_path / 'ave'
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(raw), str(out), '--short-side',
         '24'],
        capture_output=True,
        text=True,
        timeout=120)
    assert result.returncode == 0, result.stderr
    check_outputs(raw, out)


def test_ave_converter_missing_split_file(tmp_path):
    raw = tmp_path / 'AVE_Dataset'
    make_release(raw, 'AVE')
    (raw / 'trainSet.txt').unlink()
    with pytest.raises(SystemExit, match='trainSet.txt'):
        ave.main([str(raw), str(tmp_path / 'ave')])
    assert not (tmp_path / 'ave').exists()


def test_ave_converter_malformed_row(tmp_path):
    raw = tmp_path / 'AVE_Dataset'
    make_release(raw, 'AVE')
    (raw / 'valSet.txt').write_text('Clock,bRoKeN00000,good,2,9\n')
    with pytest.raises(SystemExit, match=r'valSet.txt, line 1'):
        ave.main([str(raw), str(tmp_path / 'ave')])
