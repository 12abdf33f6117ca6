import os.path as osp

import mmcv
import numpy as np
import pytest
import soundfile
import torch

from molt.datasets.media import MediaFileError
from molt.datasets.transforms import (LoadAudio, LoadFrames, PackAVInputs,
                                      ResizeFrames, SliceAudioSegments)
from molt.structures import AVDataSample


def write_frames(frame_dir, seconds, size=(12, 16)):
    """Frame s is filled with the value 20 * s (to recognise it)."""
    for second in seconds:
        frame = np.full(size + (3, ), 20 * second, np.uint8)
        frame[..., 0] = 200  # red channel marks RGB order
        mmcv.imwrite(frame[..., ::-1], osp.join(frame_dir, f'{second:02d}.png'))


def load_frames(frame_dir, seconds):
    results = LoadFrames(frame_tmpl='{:02d}.png').transform(
        dict(frame_dir=str(frame_dir), segment_seconds=list(seconds)))
    return results


def test_frames_in_rgb_one_per_second(tmp_path):
    write_frames(tmp_path, range(10))
    results = load_frames(tmp_path, range(0, 10, 3))
    assert [int(f[0, 0, 1]) for f in results['frames']] == [0, 60, 120, 180]
    assert all(f[0, 0, 0] == 200 for f in results['frames'])
    assert results['num_repeated_frames'] == 0


def test_short_video_repeats_its_last_second(tmp_path):
    write_frames(tmp_path, range(7))
    results = load_frames(tmp_path, range(10))
    assert [int(f[0, 0, 1]) for f in results['frames']][-4:] == [120] * 4
    assert results['num_repeated_frames'] == 3


def test_gaps_and_missing_frames_are_errors_naming_the_file(tmp_path):
    write_frames(tmp_path, [0, 1, 3, 4])
    with pytest.raises(FileNotFoundError, match='02.png'):
        load_frames(tmp_path, range(10))
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match='00.png'):
        load_frames(empty, range(10))
    with pytest.raises(FileNotFoundError, match='absent'):
        load_frames(tmp_path / 'absent', range(10))


def test_damaged_frames_and_wavs_are_named(tmp_path):
    write_frames(tmp_path, range(3))
    open(tmp_path / '01.png', 'wb').close()
    with pytest.raises(MediaFileError, match='01.png is empty .0 bytes.; '
                       're-create it'):
        load_frames(tmp_path, range(3))
    (tmp_path / '01.png').write_bytes(b'\x89PNG\r\n\x1a\n' + b'x' * 20)
    with pytest.raises(MediaFileError, match='01.png cannot be decoded'):
        load_frames(tmp_path, range(3))
    wav = tmp_path / 'a.wav'
    wav.touch()
    with pytest.raises(MediaFileError, match='a.wav is empty'):
        LoadAudio()(dict(audio_path=str(wav)))
    wav.write_bytes(b'RIFF\x00\x00\x00\x00WAVEfmt ')
    with pytest.raises(MediaFileError, match='a.wav cannot be decoded'):
        LoadAudio()(dict(audio_path=str(wav)))


def test_load_audio_mono_and_resampled(tmp_path):
    path = str(tmp_path / 'a.wav')
    t = np.arange(16000 * 2) / 16000
    stereo = np.stack([np.sin(2 * np.pi * 440 * t)] * 2, 1) * 0.5
    soundfile.write(path, stereo, 16000)
    results = LoadAudio(sample_rate=32000).transform(dict(audio_path=path))
    wave = results['waveform']
    assert wave.dtype == np.float32 and wave.shape == (64000, )
    spectrum = np.abs(np.fft.rfft(wave))
    assert abs(np.argmax(spectrum) * 32000 / len(wave) - 440) < 2
    with pytest.raises(FileNotFoundError, match='missing.wav'):
        LoadAudio().transform(dict(audio_path=str(tmp_path / 'missing.wav')))


def test_slice_segments_and_tile_to_the_clip():
    rate = 10
    wave = np.arange(35, dtype=np.float32)  # 3.5 s at 10 Hz
    results = SliceAudioSegments(segment_length=1.0, clip_seconds=2.5)(
        dict(waveform=wave, sample_rate=rate, segment_seconds=[0, 2, 3, 5]))
    audio = results['audio']
    assert audio.shape == (4, 25)
    np.testing.assert_array_equal(audio[0], np.tile(np.arange(10), 3)[:25])
    np.testing.assert_array_equal(audio[1, :10], np.arange(20, 30))
    # Seconds 3 and 5 run past the end: the last whole second repeats.
    np.testing.assert_array_equal(audio[2, :10], np.arange(25, 35))
    np.testing.assert_array_equal(audio[3], audio[2])
    assert results['num_repeated_audio'] == 2


def test_resize_and_pack():
    frames = [np.zeros((12, 16, 3), np.uint8) for _ in range(3)]
    results = ResizeFrames(size=8)(dict(frames=frames))
    assert results['frames'][0].shape == (8, 8, 3)
    results.update(
        audio=np.zeros((3, 100), np.float32),
        gt_label=np.array([1, 2, 3]),
        video_id='-abc',
        sample_idx=4,
        unused='x')
    packed = PackAVInputs()(results)
    assert packed['inputs']['frames'].shape == (3, 3, 8, 8)
    assert packed['inputs']['frames'].dtype == torch.uint8
    assert packed['inputs']['audio'].shape == (3, 100)
    sample = packed['data_samples']
    assert isinstance(sample, AVDataSample)
    assert sample.video_id == '-abc' and sample.sample_idx == 4
    assert torch.equal(sample.gt_label, torch.tensor([1, 2, 3]))
