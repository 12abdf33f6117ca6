"""End-to-end tests of tools/dataset_converters/ave.py (fake AVE release)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from molt.datasets import AVEDataset
from molt_media import write_av
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
    with pytest.raises(SystemExit, match=r'valSet.txt:1: expected 5 "&"'):
        ave.main([str(raw), str(tmp_path / 'ave')])
    (raw / 'valSet.txt').write_text('Clock&bRoKeN00000&good&9&2\n')
    with pytest.raises(SystemExit, match=r'valSet.txt:1: need 0 <= '
                       r'StartTime <= EndTime'):
        ave.main([str(raw), str(tmp_path / 'ave')])


def test_ave_converter_reads_rows_like_the_dataset(tmp_path, capsys):
    """A byte-order mark and the release's empty-interval row: the
    converter and AVEDataset read the same rows."""
    raw = tmp_path / 'AVE_Dataset'
    video_dir = make_release(raw, 'AVE')
    empty_row = 'Church bell&VWi2ENBuTbw&good&0&0'
    rows = SPLITS['trainSet.txt'] + [empty_row]
    (raw / 'trainSet.txt').write_text('\ufeff' + '\n'.join(rows) + '\n',
                                      encoding='utf-8')
    # Downloaders write .webm and .mkv too.
    write_av(str(video_dir / 'VWi2ENBuTbw.webm'), seconds=2.0,
             video_codec='libvpx', audio_codec='libopus')
    out = tmp_path / 'ave'
    ave.main([str(raw), str(out), '--short-side', '24'])
    report = capsys.readouterr().out
    assert report.count('empty event interval') == 1
    assert "trainSet.txt:3: 'Church bell&VWi2ENBuTbw&good&0&0'" in report
    assert (out / 'audio' / 'VWi2ENBuTbw.wav').is_file()
    dataset = AVEDataset(data_root=str(out))
    assert [dataset.get_data_info(i)['video_id'] for i in range(3)] == [
        'RUhOCu3LNXM', '-1A2b3C4d5e', 'VWi2ENBuTbw'
    ]
    assert dataset.get_data_info(2)['gt_label'].tolist() == [28] * 10
    ids = ave.read_video_ids([str(raw / 'trainSet.txt')])
    assert ids == ['RUhOCu3LNXM', '-1A2b3C4d5e', 'VWi2ENBuTbw']


def test_ave_converter_lists_mismatched_videos(tmp_path, capsys,
                                               monkeypatch):
    raw = tmp_path / 'AVE_Dataset'
    video_dir = make_release(raw, 'AVE')
    # The sound stops after 1 s of a 3 s video.
    write_av(str(video_dir / f'{CORRUPT_ID}.mp4'), seconds=3.0, fps=2,
             audio_seconds=1.0)
    out = tmp_path / 'ave'
    ave.main([str(raw), str(out), '--short-side', '24'])
    report = capsys.readouterr().out
    assert (f'{CORRUPT_ID}: video 3.00 s, frames 3 s, audio 1.00 s'
            in report)
    lines = (out / 'mismatched_media.txt').read_text().splitlines()
    assert lines == [
        '# video_id\tvideo_seconds\tframe_seconds\taudio_seconds',
        f'{CORRUPT_ID}\t3.00\t3\t1.00'
    ]
    # A resumed run keeps the list; the dataset finds the same video.
    ave.main([str(raw), str(out)])
    assert '3 already done' in capsys.readouterr().out
    assert (out / 'mismatched_media.txt').read_text().splitlines() == lines
    messages = []
    for module in ('molt.datasets.utils', 'molt.utils.run_report'):
        monkeypatch.setattr(f'{module}.print_log',
                            lambda msg, **kwargs: messages.append(msg))
    AVEDataset(ann_file='valSet.txt', data_root=str(out))
    assert any(f'{CORRUPT_ID}: repeats frames and audio' in m
               for m in messages)
