"""AVEDataset on fixtures in the official format: rows (including the
release's irregular ones), byte-order marks, media checks and the report of
samples whose frames or audio end early."""
import os
import os.path as osp

import numpy as np
import pytest

from molt.datasets import AnnotationError, AVEDataset
from molt.datasets.ave import read_ave_rows
from molt.utils.run_report import data_issues
from molt_media import write_converted

HEADER = 'Category&VideoID&Quality&StartTime&EndTime'
BOM = '\ufeff'


def write_release(root, rows, media=None, prefix=''):
    """Annotation files in the official format (``prefix`` starts each
    file, e.g. a byte-order mark) and converted media: ``media`` maps ids
    to ``(frames, audio_seconds)``, default 10 s for every row's id."""
    os.makedirs(root, exist_ok=True)
    with open(osp.join(root, 'Annotations.txt'), 'w', encoding='utf-8') as f:
        f.write(prefix + '\n'.join([HEADER] + rows) + '\n')
    with open(osp.join(root, 'trainSet.txt'), 'w', encoding='utf-8') as f:
        f.write(prefix + '\n'.join(rows) + '\n')
    if media is None:
        media = {r.split('&')[-4]: (10, 10.0) for r in rows}
    for video_id, (frames, seconds) in media.items():
        write_converted(root, video_id, frames, seconds)


@pytest.fixture
def logged(monkeypatch):
    """Messages the datasets log (mmengine's logger keeps the stdout of the
    test that created it, so capsys cannot be relied on)."""
    messages = []
    for module in ('molt.datasets.utils', 'molt.utils.run_report'):
        monkeypatch.setattr(f'{module}.print_log',
                            lambda msg, **kwargs: messages.append(msg))
    return messages


ROWS = [
    'Church bell&RUhOCu3LNXM&good&0&10',
    'Male speech, man speaking&-9Xy_Z0a1b2&good&3&7',
    # The same video in a second row (45 ids do this in the release).
    'Bark&RUhOCu3LNXM&bad&8&10',
]
# The release's one irregular row (trainSet.txt:64, Annotations.txt:28).
EMPTY_ROW = 'Church bell&VWi2ENBuTbw&good&0&0'


def test_parses_official_rows(tmp_path):
    root = str(tmp_path / 'ave')
    write_release(root, ROWS)
    for ann_file in ('trainSet.txt', 'Annotations.txt'):
        dataset = AVEDataset(ann_file=ann_file, data_root=root)
        assert len(dataset) == 3
    speech = dataset.get_data_info(1)
    assert speech['video_id'] == '-9Xy_Z0a1b2'
    assert speech['frame_dir'] == osp.join(root, 'frames', '-9Xy_Z0a1b2')
    assert speech['audio_path'] == osp.join(root, 'audio', '-9Xy_Z0a1b2.wav')
    np.testing.assert_array_equal(speech['gt_label'],
                                  [28, 28, 28, 1, 1, 1, 1, 28, 28, 28])
    np.testing.assert_array_equal(dataset.get_data_info(0)['gt_label'],
                                  [0] * 10)
    np.testing.assert_array_equal(dataset.get_data_info(2)['gt_label'],
                                  [28] * 8 + [2, 2])
    assert dataset.metainfo['classes'][27] == 'Mandolin'
    assert len(dataset.metainfo['classes']) == 28


def test_empty_interval_is_ten_background_seconds_and_reported_once(
        tmp_path, logged):
    root = str(tmp_path / 'ave')
    write_release(root, ROWS[:1] + [EMPTY_ROW] + ROWS[1:])
    dataset = AVEDataset(data_root=root)
    assert len(dataset) == 4
    empty = dataset.get_data_info(1)
    assert empty['video_id'] == 'VWi2ENBuTbw'
    # The official labels: one-hot over [0, 0), background elsewhere.
    np.testing.assert_array_equal(empty['gt_label'], [28] * 10)
    assert empty['category'] == 'Church bell'
    notes = [m for m in logged if 'irregular' in m]
    assert len(notes) == 1
    assert f"trainSet.txt:2: '{EMPTY_ROW}'" in notes[0]
    assert 'read as 10 background segments' in notes[0]
    # Annotations.txt: the header is line 1, so the row is line 3.
    AVEDataset(ann_file='Annotations.txt', data_root=root)
    assert 'Annotations.txt:3:' in logged[-1]


@pytest.mark.parametrize('row,problem', [
    ('Church bell&abc&good&0', 'expected 5'),
    ('Church bell&abc&good&0&10&x', 'expected 5'),
    ('Church bells&abc&good&0&10', "unknown category 'Church bells'"),
    ('Church bell&&good&0&10', 'empty VideoID'),
    ('Church bell&abc&good&zero&10', 'must be integers'),
    ('Church bell&abc&good&2.5&10', 'must be integers'),
    ('Church bell&abc&good&5&3', 'StartTime <= EndTime'),
    ('Church bell&abc&good&2&11', 'EndTime <= 10'),
    ('Church bell&abc&good&-1&4', '0 <= StartTime'),
])
def test_rows_no_reading_makes_sense_of_name_the_line(tmp_path, row,
                                                       problem):
    root = str(tmp_path / 'ave')
    # The rows fail before any media is looked at.
    write_release(root, ROWS[:1] + [row], media={})
    with pytest.raises(AnnotationError) as error:
        AVEDataset(data_root=root)
    message = str(error.value)
    assert 'trainSet.txt:2:' in message and problem in message


def test_byte_order_mark_reads_the_same(tmp_path):
    plain, marked = str(tmp_path / 'plain'), str(tmp_path / 'bom')
    write_release(plain, ROWS + [EMPTY_ROW])
    write_release(marked, ROWS + [EMPTY_ROW], prefix=BOM)
    with open(osp.join(marked, 'trainSet.txt'), 'rb') as f:
        assert f.read(3) == b'\xef\xbb\xbf'
    for name in ('trainSet.txt', 'Annotations.txt'):
        rows = [read_ave_rows(osp.join(root, name))[0]
                for root in (plain, marked)]
        assert [r.video_id for r in rows[0]] == [r.video_id for r in rows[1]]
        assert rows[1][0].category == 'Church bell'
    datasets = [AVEDataset(data_root=root) for root in (plain, marked)]
    labels = [[d.get_data_info(i)['gt_label'].tolist() for i in range(4)]
              for d in datasets]
    assert labels[0] == labels[1]


def test_missing_media_is_named_before_training(tmp_path):
    root = str(tmp_path / 'ave')
    write_release(root, ROWS, media={'RUhOCu3LNXM': (10, 10.0)})
    with pytest.raises(FileNotFoundError) as error:
        AVEDataset(data_root=root)
    message = str(error.value)
    assert osp.join(root, 'frames', '-9Xy_Z0a1b2') in message
    assert '1 video(s) have missing or unreadable media' in message


def test_damaged_wav_is_named_before_training(tmp_path):
    root = str(tmp_path / 'ave')
    write_release(root, ROWS)
    wav = osp.join(root, 'audio', '-9Xy_Z0a1b2.wav')
    open(wav, 'wb').close()
    with pytest.raises(FileNotFoundError, match=f'{wav} is empty'):
        AVEDataset(data_root=root)


def test_missing_split_file_names_the_path_and_readme(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        AVEDataset(data_root=str(tmp_path / 'nowhere'))
    assert 'trainSet.txt' in str(error.value)
    assert 'docs/en/dataset_prepare.md' in str(error.value)


def test_unreadable_videos_are_skipped_with_a_count(tmp_path, logged):
    root = str(tmp_path / 'ave')
    write_release(root, ROWS, media={'RUhOCu3LNXM': (10, 10.0)})
    with open(osp.join(root, 'unreadable_videos.txt'), 'w') as f:
        f.write('-9Xy_Z0a1b2\tcannot decode (moov atom not found)\n')
    dataset = AVEDataset(data_root=root)
    assert len(dataset) == 2
    assert any('skipped 1 sample(s)' in m for m in logged)


MEDIA_ROWS = [
    'Church bell&full0000000&good&0&10',
    'Bark&short000000&good&1&3',  # a 7 s video
    'Clock&nineframes0&good&2&9',  # 9 frames but 10 s of sound
    'Goat&cutaudio000&good&0&4',  # 10 frames, audio cut at 6.5 s
    'Cat&aac00000000&good&0&10',  # audio 20 ms short: codec padding
]
MEDIA = {
    'full0000000': (10, 10.0),
    'short000000': (7, 7.0),
    'nineframes0': (9, 10.0),
    'cutaudio000': (10, 6.5),
    'aac00000000': (10, 9.98),
}


def test_samples_that_repeat_frames_or_audio_are_reported(tmp_path, logged):
    root = str(tmp_path / 'ave')
    write_release(root, MEDIA_ROWS, MEDIA)
    dataset = AVEDataset(data_root=root)
    assert len(dataset) == 5  # kept by default
    report, = [m for m in logged if 'repeat frames or audio' in m]
    assert '3 of 5 samples repeat frames or audio' in report
    assert '2 whose frames and audio disagree, 1 shorter than' in report
    assert ('short000000: repeats frames and audio; reads 10 s, frames 7 s, '
            'audio 7.00 s (shorter than needed)') in report
    assert ('nineframes0: repeats frames; reads 10 s, frames 9 s, audio '
            '10.00 s (frames and audio disagree)') in report
    assert ('cutaudio000: repeats audio; reads 10 s, frames 10 s, audio '
            '6.50 s (frames and audio disagree)') in report
    assert 'full0000000' not in report and 'aac00000000' not in report
    assert 'their last second repeats' in report
    # A WARNING, counted again in the end-of-run summary.
    assert any('3 of 5 samples repeat frames or audio' in summary
               for summary in data_issues())


def test_a_dataset_built_twice_reports_once(tmp_path, logged):
    # tools/train.py builds the training set for the head's sizes, then the
    # Runner builds it again.
    root = str(tmp_path / 'ave')
    media = dict(MEDIA, VWi2ENBuTbw=(10, 10.0))
    write_release(root, MEDIA_ROWS[:2] + [EMPTY_ROW], media)
    AVEDataset(data_root=root)
    AVEDataset(data_root=root)
    assert sum('irregular' in m for m in logged) == 1
    assert sum('repeat frames or audio' in m for m in logged) == 1
