"""AVSBench S4/MS3 meta-data parsing, protocol and loading, on fixtures in
the official layout."""
import os
import os.path as osp

import mmcv
import numpy as np
import pytest

from molt.datasets import AnnotationError, AVSBenchDataset
from molt.datasets.synthetic.common import write_wav
from molt.datasets.transforms import (LoadAudio, LoadFrameFiles, LoadMasks,
                                      ResizeMasks, SliceAudioSegments)

S4_HEADER = 'name,start_time,category,split'
S4_ROWS = ['-0vwbsZqT5s_1,0,baby_laughter,train', 'abc_9,30,dog,val',
           'xyz_2,10,dog,test']
MS3_HEADER = 'name,split'
MS3_ROWS = ['-1XyZ_ms3,train', 'vid2,test']
SIZE = 8


def write_image(path, image):
    mmcv.imwrite(image, path)  # creates folders


def write_video(root, frame_tmpl, mask_tmpl, wav_path, mask_indices,
                mask_size=SIZE):
    """5 frames, the listed masks (values 0/128/255) and a 16 kHz wav."""
    for i in range(1, 6):
        write_image(
            osp.join(root, frame_tmpl.format(i)),
            np.full((SIZE, SIZE, 3), 40 * i, np.uint8))
    for i in mask_indices:
        mask = np.zeros((mask_size, mask_size), np.uint8)
        mask[:2, :2] = 255
        mask[-1, -1] = 128
        write_image(osp.join(root, mask_tmpl.format(i)), mask)
    write_wav(osp.join(root, wav_path), np.zeros(16000 * 5), 16000)


def write_s4(root, rows=S4_ROWS, skip=()):
    os.makedirs(root, exist_ok=True)
    with open(osp.join(root, 's4_meta_data.csv'), 'w') as f:
        f.write('\n'.join([S4_HEADER] + rows) + '\n')
    for row in rows:
        name, _, category, split = row.split(',')
        if name in skip:
            continue
        rel = f'{split}/{category}/{name}'
        write_video(
            root, f'visual_frames/{rel}/{name}_{{}}.png',
            f'gt_masks/{rel}/{name}_{{}}.png',
            f'audio_wav/{split}/{category}/{name}.wav',
            [1] if split == 'train' else range(1, 6))


def write_ms3(root, rows=MS3_ROWS):
    with open(osp.join(root, 'ms3_meta_data.csv'), 'w') as f:
        f.write('\n'.join([MS3_HEADER] + rows) + '\n')
    for row in rows:
        name, split = row.split(',')
        write_video(root, f'visual_frames/{name}/{name}.mp4_{{}}.png',
                    f'gt_masks/{split}/{name}/{name}_{{}}.png',
                    f'audio_wav/{split}/{name}.wav', range(1, 6))


def load(info, mask_size=SIZE):
    pipeline = [LoadFrameFiles(), LoadMasks(), ResizeMasks(mask_size),
                LoadAudio(32000), SliceAudioSegments(clip_seconds=5.0)]
    results = dict(info)
    for transform in pipeline:
        results = transform(results)
    return results


def test_s4_paths_and_first_frame_protocol(tmp_path):
    root = str(tmp_path)
    write_s4(root)
    train = AVSBenchDataset(subset='s4', split='train', data_root=root)
    assert len(train) == 1
    info = train.get_data_info(0)
    rel = 'train/baby_laughter/-0vwbsZqT5s_1'
    assert info['video_id'] == '-0vwbsZqT5s_1'
    assert info['category'] == 'baby_laughter'
    assert info['frame_paths'] == [
        osp.join(root, 'visual_frames', rel, f'-0vwbsZqT5s_1_{i}.png')
        for i in range(1, 6)
    ]
    assert info['mask_paths'] == [
        osp.join(root, 'gt_masks', rel, '-0vwbsZqT5s_1_1.png')
    ] + [None] * 4
    assert info['audio_path'] == osp.join(
        root, 'audio_wav/train/baby_laughter/-0vwbsZqT5s_1.wav')
    results = load(info)
    np.testing.assert_array_equal(results['mask_valid'],
                                  [True, False, False, False, False])
    # Binarised (> 0): 255 and 128 are both foreground.
    assert results['gt_masks'].shape == (5, SIZE, SIZE)
    assert results['gt_masks'][0].sum() == 5
    assert results['gt_masks'][1:].sum() == 0
    # 16 kHz wav resampled to 32 kHz; 1 s per frame tiled to 5 s.
    assert results['audio'].shape == (5, 5 * 32000)
    test = AVSBenchDataset(subset='s4', split='test', data_root=root)
    assert test.get_data_info(0)['video_id'] == 'xyz_2'
    assert load(test.get_data_info(0))['mask_valid'].all()


def test_ms3_paths_and_all_frames(tmp_path):
    root = str(tmp_path)
    write_ms3(root)
    dataset = AVSBenchDataset(subset='ms3', split='train', data_root=root)
    info = dataset.get_data_info(0)
    assert info['frame_paths'][4] == osp.join(
        root, 'visual_frames/-1XyZ_ms3/-1XyZ_ms3.mp4_5.png')
    assert info['mask_paths'][0] == osp.join(
        root, 'gt_masks/train/-1XyZ_ms3/-1XyZ_ms3_1.png')
    assert info['audio_path'] == osp.join(root,
                                          'audio_wav/train/-1XyZ_ms3.wav')
    results = load(info, mask_size=16)
    assert results['mask_valid'].all()
    assert results['gt_masks'].shape == (5, 16, 16)
    assert set(np.unique(results['gt_masks'])) == {0, 1}


def test_media_folder_prefix(tmp_path):
    """The unpacked release keeps the media in s4_data/ beside the csv."""
    root = str(tmp_path)
    write_s4(str(tmp_path / 's4_data'))
    (tmp_path / 's4_data' / 's4_meta_data.csv').rename(
        tmp_path / 's4_meta_data.csv')
    dataset = AVSBenchDataset(split='val', data_root=root,
                              data_prefix=dict(media='s4_data'))
    assert dataset.get_data_info(0)['audio_path'] == osp.join(
        root, 's4_data', 'audio_wav/val/dog/abc_9.wav')


@pytest.mark.parametrize('row,problem', [
    ('abc,0,dog', 'expected 4 comma-separated fields'),
    ('abc,0,dog,training', "split 'training' is not one of"),
    (',0,dog,train', "empty ['name']"),
])
def test_malformed_rows_name_file_and_line(tmp_path, row, problem):
    root = str(tmp_path)
    write_s4(root)
    with open(osp.join(root, 's4_meta_data.csv'), 'a') as f:
        f.write(row + '\n')
    with pytest.raises(AnnotationError) as error:
        AVSBenchDataset(split='train', data_root=root)
    assert f's4_meta_data.csv:{len(S4_ROWS) + 2}' in str(error.value)
    assert problem in str(error.value)


def test_header_without_required_columns(tmp_path):
    with open(tmp_path / 'ms3_meta_data.csv', 'w') as f:
        f.write('video,fold\nabc,train\n')
    with pytest.raises(AnnotationError, match=r"ms3_meta_data.csv:1: .*"
                       r"missing \['name', 'split'\]"):
        AVSBenchDataset(subset='ms3', data_root=str(tmp_path))


def test_missing_media_fails_at_start_naming_files(tmp_path):
    root = str(tmp_path)
    write_s4(root, skip=('abc_9', ))
    with pytest.raises(FileNotFoundError) as error:
        AVSBenchDataset(split='val', data_root=root)
    message = str(error.value)
    assert '11 media file(s)' in message  # 5 frames, 5 masks, 1 wav
    assert osp.join(root, 'visual_frames/val/dog/abc_9/abc_9_1.png') in message
    assert osp.join(root, 'audio_wav/val/dog/abc_9.wav') in message


@pytest.mark.parametrize('missing', ['visual_frames', 'gt_masks'])
def test_loading_names_a_missing_frame_or_mask(tmp_path, missing):
    root = str(tmp_path)
    write_s4(root)
    dataset = AVSBenchDataset(split='val', data_root=root, check_files=False)
    info = dataset.get_data_info(0)
    path = osp.join(root, missing, 'val/dog/abc_9/abc_9_3.png')
    (tmp_path / osp.relpath(path, root)).unlink()
    with pytest.raises(FileNotFoundError, match=path):
        load(info)


def test_mask_of_another_size_than_its_frame(tmp_path):
    root = str(tmp_path)
    write_s4(root)
    mask_path = osp.join(root, 'gt_masks/val/dog/abc_9/abc_9_2.png')
    write_image(mask_path, np.zeros((SIZE, SIZE + 2), np.uint8))
    info = AVSBenchDataset(split='val', data_root=root).get_data_info(0)
    with pytest.raises(ValueError, match=f'Mask {mask_path} is 10x8 but'):
        load(info)


def test_only_labelled_frames(tmp_path):
    root = str(tmp_path)
    write_s4(root)
    dataset = AVSBenchDataset(split='train', data_root=root,
                              only_labelled_frames=True)
    info = dataset.get_data_info(0)
    assert len(info['frame_paths']) == 1
    assert info['frame_paths'][0].endswith('_1.png')
    assert info['segment_seconds'] == [0]
    results = load(info)
    assert results['mask_valid'].tolist() == [True]
    assert results['audio'].shape == (1, 5 * 32000)
