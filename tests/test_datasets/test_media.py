"""Tests for molt.datasets.media on tiny mp4 files written with PyAV."""
import os
from typing import Tuple

import av
import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from molt.datasets.media import (ConversionJob, MediaDecodeError,
                                 convert_many, convert_video, is_converted)
from molt_testing import (PALETTE, TONE_HZ, write_corrupt_video,
                          write_test_video)

def mean_colour(path: str) -> np.ndarray:
    return np.asarray(Image.open(path)).reshape(-1, 3).mean(0)


def nearest_palette_index(rgb: np.ndarray) -> int:
    return int(np.argmin(np.abs(np.array(PALETTE) - rgb).sum(1)))


def convert(tmp_path, video: str, max_seconds: int = 10,
            short_side: int = 24) -> Tuple[str, str, object]:
    frame_dir = str(tmp_path / 'frames' / 'vid')
    wav_path = str(tmp_path / 'audio' / 'vid.wav')
    result = convert_video(
        video, frame_dir, wav_path, max_seconds, short_side=short_side)
    return frame_dir, wav_path, result


@pytest.fixture(scope='module')
def video(tmp_path_factory) -> str:
    """A 3.6 s, 25 fps, 64x48 video with a 1 kHz stereo tone."""
    return write_test_video(str(tmp_path_factory.mktemp('media') / 'v.mp4'))


def test_convert_video_frames_follow_seconds(tmp_path, video):
    frame_dir, _, result = convert(tmp_path, video)
    # 3.6 s cover 4 seconds (the last one partially); no padding to 10.
    assert result.num_frames == 4
    assert sorted(os.listdir(frame_dir)) == [f'{i:02d}.jpg' for i in range(4)]
    for i in range(4):
        rgb = mean_colour(os.path.join(frame_dir, f'{i:02d}.jpg'))
        assert nearest_palette_index(rgb) == i
        assert np.abs(rgb - PALETTE[i]).max() < 16


def test_convert_video_picks_frame_nearest_to_middle_of_second(tmp_path):
    # 4 fps, a different grey per frame: second i must give frame 4 i + 2,
    # the one shown at i + 0.5 s.
    path = write_test_video(
        str(tmp_path / 'grey.mp4'),
        seconds=2.75,
        fps=4,
        colour=lambda index, fps: (20 * index, ) * 3)
    frame_dir, _, result = convert(tmp_path, path)
    assert result.num_frames == 3
    for i in range(3):
        grey = mean_colour(os.path.join(frame_dir, f'{i:02d}.jpg')).mean()
        assert abs(grey - 20 * (4 * i + 2)) < 6


def test_convert_video_audio(tmp_path, video):
    _, wav_path, result = convert(tmp_path, video)
    info = sf.info(wav_path)
    assert (info.samplerate, info.channels, info.subtype) == (32000, 1,
                                                              'PCM_16')
    assert info.duration == pytest.approx(3.6, abs=0.1)
    assert result.audio_seconds == pytest.approx(info.duration)
    samples, rate = sf.read(wav_path)
    spectrum = np.abs(np.fft.rfft(samples))
    peak_hz = np.argmax(spectrum) * rate / len(samples)
    assert peak_hz == pytest.approx(TONE_HZ, abs=5)
    # The temporary wav was renamed into place.
    assert os.listdir(os.path.dirname(wav_path)) == ['vid.wav']


def test_convert_video_max_seconds(tmp_path, video):
    frame_dir, wav_path, result = convert(tmp_path, video, max_seconds=2)
    assert result.num_frames == 2
    assert len(os.listdir(frame_dir)) == 2
    assert sf.info(wav_path).frames == 2 * 32000


@pytest.mark.parametrize('size,short_side,expected_hw', [
    ((64, 48), 24, (24, 32)),
    ((48, 64), 24, (32, 24)),
    ((64, 48), 96, (96, 128)),
    ((64, 48), 0, (48, 64)),
])
def test_convert_video_resizes_short_side(tmp_path, size, short_side,
                                          expected_hw):
    path = write_test_video(str(tmp_path / 'v.mp4'), seconds=1.0, size=size)
    frame_dir, _, _ = convert(tmp_path, path, short_side=short_side)
    image = np.asarray(Image.open(os.path.join(frame_dir, '00.jpg')))
    assert image.shape == (*expected_hw, 3)


def test_corrupt_video_raises(tmp_path):
    path = write_corrupt_video(str(tmp_path / 'broken.mp4'))
    with pytest.raises(MediaDecodeError, match='broken.mp4') as info:
        convert(tmp_path, path)
    assert isinstance(info.value.__cause__, av.FFmpegError)
    # Nothing that looks like data is left behind.
    assert not os.path.exists(tmp_path / 'frames' / 'vid')
    assert os.listdir(tmp_path / 'audio') == []


def test_video_without_audio_raises(tmp_path):
    path = write_test_video(str(tmp_path / 'mute.mp4'), audio=False)
    with pytest.raises(MediaDecodeError, match='mute.mp4.*no audio stream'):
        convert(tmp_path, path)
    assert not os.path.exists(tmp_path / 'frames' / 'vid')


def test_missing_video_raises(tmp_path):
    with pytest.raises(MediaDecodeError, match='absent.mp4.*not found'):
        convert(tmp_path, str(tmp_path / 'absent.mp4'))


def test_is_converted(tmp_path, video):
    frame_dir = str(tmp_path / 'frames' / 'vid')
    wav_path = str(tmp_path / 'audio' / 'vid.wav')
    assert not is_converted(frame_dir, wav_path)
    convert(tmp_path, video)
    assert is_converted(frame_dir, wav_path)
    os.remove(wav_path)  # as if interrupted before the wav was moved in
    assert not is_converted(frame_dir, wav_path)


def make_job(tmp_path, video_id: str, video_path: str,
             max_seconds: int = 10) -> ConversionJob:
    return ConversionJob(
        video_id=video_id,
        video_path=video_path,
        frame_dir=str(tmp_path / 'out' / 'frames' / video_id),
        wav_path=str(tmp_path / 'out' / 'audio' / f'{video_id}.wav'),
        max_seconds=max_seconds,
        short_side=24)


def test_convert_many_records_failures_and_resumes(tmp_path, video):
    corrupt = write_corrupt_video(str(tmp_path / 'corrupt.mp4'))
    jobs = [
        make_job(tmp_path, 'good1', video),
        make_job(tmp_path, 'bad', corrupt),
        make_job(tmp_path, 'gone', str(tmp_path / 'gone.mp4')),
        make_job(tmp_path, 'good2', video, max_seconds=2),
    ]
    summary = convert_many(jobs)
    assert summary.converted == ['good1', 'good2']
    assert summary.skipped == []
    assert [video_id for video_id, _ in summary.failed] == ['bad', 'gone']
    assert 'corrupt.mp4' in summary.failed[0][1]
    assert 'not found' in summary.failed[1][1]
    report = summary.format()
    assert '2 converted' in report and '2 failed' in report
    assert 'bad: ' in report and 'gone: ' in report

    # Second run: finished videos are skipped, failures are retried.
    mtime = os.path.getmtime(jobs[0].wav_path)
    again = convert_many(jobs)
    assert again.converted == []
    assert again.skipped == ['good1', 'good2']
    assert [video_id for video_id, _ in again.failed] == ['bad', 'gone']
    assert os.path.getmtime(jobs[0].wav_path) == mtime
