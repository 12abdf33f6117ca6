import os
import os.path as osp

import numpy as np
import pytest

from molt.datasets import AnnotationError, AVEDataset

HEADER = 'Category&VideoID&Quality&StartTime&EndTime'


def write_release(root, rows, media_for=None):
    """Annotation files in the official format plus media for the videos."""
    os.makedirs(root, exist_ok=True)
    with open(osp.join(root, 'Annotations.txt'), 'w') as f:
        f.write('\n'.join([HEADER] + rows) + '\n')
    with open(osp.join(root, 'trainSet.txt'), 'w') as f:
        f.write('\n'.join(rows) + '\n')
    ids = media_for if media_for is not None else [
        r.split('&')[-4] for r in rows
    ]
    for video_id in ids:
        os.makedirs(osp.join(root, 'frames', video_id), exist_ok=True)
        open(osp.join(root, 'frames', video_id, '00.jpg'), 'wb').close()
        os.makedirs(osp.join(root, 'audio'), exist_ok=True)
        open(osp.join(root, 'audio', f'{video_id}.wav'), 'wb').close()


ROWS = [
    'Church bell&RUhOCu3LNXM&good&0&10',
    'Male speech, man speaking&-9Xy_Z0a1b2&good&3&7',
    # The same video in a second row (45 ids do this in the release).
    'Bark&RUhOCu3LNXM&bad&8&10',
]


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


@pytest.mark.parametrize('row,problem', [
    ('Church bell&abc&good&0', 'expected 5'),
    ('Church bells&abc&good&0&10', "unknown category 'Church bells'"),
    ('Church bell&abc&good&zero&10', 'must be integers'),
    ('Church bell&abc&good&5&5', 'StartTime < EndTime'),
    ('Church bell&abc&good&2&11', 'EndTime <= 10'),
])
def test_bad_rows_name_the_line(tmp_path, row, problem):
    root = str(tmp_path / 'ave')
    write_release(root, ROWS[:1] + [row], media_for=['RUhOCu3LNXM', 'abc'])
    with pytest.raises(AnnotationError) as error:
        AVEDataset(data_root=root)
    message = str(error.value)
    assert 'trainSet.txt:2' in message and problem in message


def test_missing_media_is_named_before_training(tmp_path):
    root = str(tmp_path / 'ave')
    write_release(root, ROWS, media_for=['RUhOCu3LNXM'])
    with pytest.raises(FileNotFoundError) as error:
        AVEDataset(data_root=root)
    message = str(error.value)
    assert osp.join(root, 'audio', '-9Xy_Z0a1b2.wav') in message
    assert osp.join(root, 'frames', '-9Xy_Z0a1b2', '00.jpg') in message
    assert '2 media file(s)' in message


def test_missing_split_file_names_the_path_and_readme(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        AVEDataset(data_root=str(tmp_path / 'nowhere'))
    assert 'trainSet.txt' in str(error.value)
    assert 'Data preparation' in str(error.value)


def test_unreadable_videos_are_skipped_with_a_count(tmp_path, monkeypatch):
    root = str(tmp_path / 'ave')
    write_release(root, ROWS, media_for=['RUhOCu3LNXM'])
    with open(osp.join(root, 'unreadable_videos.txt'), 'w') as f:
        f.write('-9Xy_Z0a1b2\tcannot decode (moov atom not found)\n')
    messages = []
    monkeypatch.setattr('molt.datasets.utils.print_log',
                        lambda message, **kwargs: messages.append(message))
    dataset = AVEDataset(data_root=root)
    assert len(dataset) == 2
    assert any('skipped 1 sample(s)' in m for m in messages)
