"""AVSBench S4/MS3 meta-data parsing, protocol and loading, on fixtures in
the official layout."""
import os
import os.path as osp

import mmcv
import numpy as np
import pytest
from PIL import Image

from molt.datasets import AnnotationError, AVSBenchDataset
from molt.datasets.media import MediaFileError, read_mask
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
    # Binarised like the official convert('1'): >= 128 is foreground.
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


# -- masks in every format a release or a user may hold ----------------------

SHAPE = np.zeros((SIZE, SIZE), bool)
SHAPE[2:5, 1:6] = True


def save_mask(path, array, mode=None, **kwargs):
    image = Image.fromarray(array, mode) if mode else Image.fromarray(array)
    image.save(path, **kwargs)
    return path


def palette_mask(path, colour):
    image = Image.fromarray(SHAPE.astype(np.uint8), 'P')
    image.putpalette([0, 0, 0, *colour] + [0] * 762)
    image.save(path)
    return path


def rgba_mask(path, colour_rgb, background_rgb, alpha_shape=True):
    rgba = np.zeros((SIZE, SIZE, 4), np.uint8)
    rgba[..., :3] = background_rgb
    rgba[SHAPE, :3] = colour_rgb
    rgba[..., 3] = np.where(SHAPE, 255, 0) if alpha_shape else 255
    return save_mask(path, rgba, 'RGBA')


@pytest.mark.parametrize('writer', [
    lambda p: save_mask(p, SHAPE.astype(np.uint8) * 255),  # the release's
    lambda p: save_mask(p, SHAPE.astype(np.uint8)),  # 0/1
    lambda p: save_mask(p, (SHAPE * 200 + ~SHAPE * 90).astype(np.uint8)),
    lambda p: palette_mask(p, (255, 255, 255)),
    lambda p: palette_mask(p, (128, 0, 0)),  # a dark VOC-style colour
    lambda p: save_mask(p, np.stack([SHAPE * 255] * 3, -1).astype(np.uint8)),
    # White paint whose shape is only in the alpha channel.
    lambda p: rgba_mask(p, (255, 255, 255), (255, 255, 255)),
    # Black paint, shape in alpha: the colour says nothing either.
    lambda p: rgba_mask(p, (0, 0, 0), (0, 0, 0)),
    # Opaque colour mask: the colour decides, alpha says nothing.
    lambda p: rgba_mask(p, (255, 255, 255), (0, 0, 0), alpha_shape=False),
], ids=['0-255', '0-1', 'grey-90-200', 'palette', 'palette-dark', 'rgb',
        'rgba-white', 'rgba-black', 'rgba-opaque'])
def test_mask_formats(tmp_path, writer):
    path = writer(str(tmp_path / 'mask.png'))
    np.testing.assert_array_equal(read_mask(path), SHAPE)


def test_mask_rule_keeps_empty_and_full_masks(tmp_path):
    empty = save_mask(str(tmp_path / 'e.png'), np.zeros((4, 4), np.uint8))
    assert read_mask(empty).sum() == 0
    opaque_black = np.zeros((4, 4, 4), np.uint8)
    opaque_black[..., 3] = 255
    assert read_mask(save_mask(str(tmp_path / 'b.png'), opaque_black,
                               'RGBA')).sum() == 0
    full = save_mask(str(tmp_path / 'f.png'), np.full((4, 4), 255, np.uint8))
    assert read_mask(full).sum() == 16


def truncated_copy(path, name):
    with open(path, 'rb') as f:
        data = f.read()
    out = osp.join(osp.dirname(path), name)
    with open(out, 'wb') as f:
        f.write(data[:len(data) // 2])
    return out


@pytest.mark.parametrize('damage', ['empty', 'truncated', 'text'])
@pytest.mark.parametrize('kind', ['frame', 'mask'])
def test_damaged_frames_and_masks_are_named(tmp_path, damage, kind):
    root = str(tmp_path)
    write_s4(root)
    info = AVSBenchDataset(split='val', data_root=root).get_data_info(0)
    key = 'frame_paths' if kind == 'frame' else 'mask_paths'
    path = info[key][2]
    if damage == 'empty':
        open(path, 'wb').close()
        problem = 'is empty (0 bytes)'
    elif damage == 'truncated':
        image = np.random.default_rng(0).integers(0, 255, (64, 64, 3))
        mmcv.imwrite(image.astype(np.uint8), path)
        os.replace(truncated_copy(path, 'cut.png'), path)
        problem = 'cannot be'
    else:
        with open(path, 'w') as f:
            f.write('not an image')
        problem = 'cannot be'
    with pytest.raises(MediaFileError) as error:
        load(info)
    message = str(error.value)
    assert path in message and problem in message
    assert 're-create it' in message


def test_truncated_jpeg_frame_is_refused(tmp_path):
    # An interrupted copy: the error names the file (OpenCV said nothing).
    path = str(tmp_path / '00.jpg')
    image = np.random.default_rng(0).integers(0, 255, (64, 64, 3))
    mmcv.imwrite(image.astype(np.uint8), path)
    os.replace(truncated_copy(path, 'cut.jpg'), path)
    with pytest.raises(MediaFileError, match='00.jpg cannot be decoded'):
        LoadFrameFiles()(dict(frame_paths=[path]))


def test_damaged_wav_is_named(tmp_path):
    root = str(tmp_path)
    write_s4(root)
    wav = osp.join(root, 'audio_wav/val/dog/abc_9.wav')
    with open(wav, 'w') as f:
        f.write('RIFF')
    with pytest.raises(FileNotFoundError, match=f'{wav} cannot be read'):
        AVSBenchDataset(split='val', data_root=root)
    info = AVSBenchDataset(split='val', data_root=root,
                           check_files=False).get_data_info(0)
    with pytest.raises(MediaFileError, match=f'{wav} cannot be decoded'):
        LoadAudio()(dict(info))


def test_short_wav_is_reported(tmp_path, monkeypatch):
    messages = []
    for module in ('molt.datasets.utils', 'molt.utils.run_report'):
        monkeypatch.setattr(f'{module}.print_log',
                            lambda msg, **kwargs: messages.append(msg))
    root = str(tmp_path)
    write_s4(root)
    write_wav(osp.join(root, 'audio_wav/test/dog/xyz_2.wav'),
              np.zeros(16000 * 3), 16000)
    assert len(AVSBenchDataset(split='test', data_root=root)) == 1
    assert ('xyz_2: repeats audio; reads 5 s, frames 5 s, audio 3.00 s '
            '(frames and audio disagree)') in messages[-1]


def test_csv_with_byte_order_mark(tmp_path):
    root = str(tmp_path)
    write_s4(root)
    csv_path = osp.join(root, 's4_meta_data.csv')
    with open(csv_path, encoding='utf-8') as f:
        text = f.read()
    with open(csv_path, 'w', encoding='utf-8') as f:
        f.write('\ufeff' + text)
    dataset = AVSBenchDataset(split='val', data_root=root)
    assert dataset.get_data_info(0)['video_id'] == 'abc_9'
