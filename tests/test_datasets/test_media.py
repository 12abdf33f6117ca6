"""Tests for molt.datasets.media (decoding, conversion) on tiny mp4 files
written with PyAV."""
import multiprocessing
import os
import signal
import threading
import time
from typing import Tuple

import av
import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from molt.datasets.media import (ConversionJob, MediaDecodeError,
                                 convert_many, convert_video, is_converted)
from molt_media import grey, truncate, write_av, write_with_cover_art
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


def test_convert_many_stops_with_an_error_when_a_worker_dies(
        tmp_path, video):
    """A worker that dies ends the run with an error that says how to
    resume. (Killed here while it starts up; the kernel's out-of-memory
    killer strikes mid-video, where a multiprocessing.Pool would wait
    forever for the lost job, CPython issue 22393.)"""
    jobs = [make_job(tmp_path, f'v{i}', video) for i in range(4)]
    raised = []

    def convert_in_thread():
        try:
            convert_many(jobs, nproc=2, desc='test videos')
        except RuntimeError as error:
            raised.append(error)

    # Only the workers this run starts (not a child of an earlier test).
    earlier = {child.pid for child in multiprocessing.active_children()}
    thread = threading.Thread(target=convert_in_thread, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while True:
        workers = [child.pid for child in multiprocessing.active_children()
                   if child.pid not in earlier]
        if workers:
            break
        assert time.monotonic() < deadline, 'no worker process started'
        time.sleep(0.01)
    # The workers are still importing molt: no video is done yet.
    os.kill(workers[0], signal.SIGKILL)
    thread.join(timeout=120)
    assert not thread.is_alive(), 'convert_many hung after a worker died'
    assert len(raised) == 1
    message = str(raised[0])
    assert 'A conversion worker died after 0 of 4 test videos' in message
    assert 'run the same command again' in message
    assert '--nproc' in message


# -- real-world media (files written by PyAV in the test) -------------------

@pytest.mark.parametrize('name,video_codec,audio_codec,rate,size', [
    ('v.mp4', 'libx264', 'aac', 44100, (32, 24)),
    ('v.mkv', 'libx264', 'libmp3lame', 48000, (24, 32)),  # portrait
    ('v.webm', 'libvpx', 'libopus', 48000, (32, 24)),
    ('v.webm', 'libvpx-vp9', 'libopus', 48000, (24, 32)),
])
def test_containers_and_codecs_of_real_downloads(tmp_path, name, video_codec,
                                                 audio_codec, rate, size):
    path = write_av(str(tmp_path / name), seconds=2.0, fps=5, size=size,
                    video_codec=video_codec, audio_codec=audio_codec,
                    audio_rate=rate)
    frame_dir, wav_path, result = convert(tmp_path, path, short_side=12)
    assert result.num_frames == 2 and not result.mismatched
    assert result.video_seconds == pytest.approx(2.0, abs=0.05)
    width, height = size
    image = np.asarray(Image.open(os.path.join(frame_dir, '01.jpg')))
    assert image.shape == (12 * height // min(size), 12 * width // min(size),
                           3)
    # Frame 1 is the one shown at 1.5 s: frame 7 of the 5 fps video.
    assert abs(image.mean() - grey(7)) < 6
    info = sf.info(wav_path)
    assert (info.samplerate, info.channels) == (32000, 1)
    assert info.duration == pytest.approx(2.0, abs=0.05)
    samples, _ = sf.read(wav_path)
    peak_hz = np.argmax(np.abs(np.fft.rfft(samples))) * 32000 / len(samples)
    assert peak_hz == pytest.approx(TONE_HZ, abs=5)


def test_variable_frame_rate_picks_frames_by_timestamp(tmp_path):
    times = [0.0, 0.1, 0.45, 0.52, 1.3, 1.55, 1.9, 2.6, 2.7]
    path = write_av(str(tmp_path / 'vfr.mkv'), seconds=2.75, fps=25,
                    frame_times=times)
    frame_dir, _, result = convert(tmp_path, path)
    assert result.num_frames == 3
    # Nearest to 0.5, 1.5 and 2.5 s: the frames at 0.52, 1.55 and 2.6 s.
    for second, index in enumerate([3, 5, 7]):
        frame = mean_colour(os.path.join(frame_dir, f'{second:02d}.jpg'))
        assert abs(frame.mean() - grey(index)) < 6


def test_one_frame_per_second_video(tmp_path):
    path = write_av(str(tmp_path / 'slow.mp4'), seconds=4.0, fps=1)
    frame_dir, _, result = convert(tmp_path, path)
    assert result.num_frames == 4 and not result.mismatched
    for second in range(4):
        frame = mean_colour(os.path.join(frame_dir, f'{second:02d}.jpg'))
        assert abs(frame.mean() - grey(second)) < 6


@pytest.mark.parametrize('seconds,frames', [(3.0, 3), (12.0, 10)])
def test_videos_shorter_and_longer_than_the_protocol(tmp_path, seconds,
                                                     frames):
    path = write_av(str(tmp_path / 'v.mp4'), seconds=seconds, fps=2)
    frame_dir, wav_path, result = convert(tmp_path, path, max_seconds=10)
    assert result.num_frames == frames == len(os.listdir(frame_dir))
    assert result.video_seconds == pytest.approx(min(seconds, 10), abs=0.05)
    assert sf.info(wav_path).duration == pytest.approx(frames, abs=0.05)
    # Neither is a mismatch: the frames and the sound cover the video.
    assert not result.mismatched


def test_audio_shorter_than_the_picture_is_mismatched(tmp_path):
    path = write_av(str(tmp_path / 'v.mkv'), seconds=4.0, fps=2,
                    audio_seconds=1.5)
    _, _, result = convert(tmp_path, path)
    assert result.num_frames == 4
    assert result.audio_seconds == pytest.approx(1.5, abs=0.05)
    assert result.mismatched
    assert result.describe().startswith('video 4.')
    assert 'frames 4 s, audio 1.5' in result.describe()


@pytest.mark.parametrize('name,faststart', [('v.mkv', False),
                                            ('v.mp4', True)])
def test_truncated_download_converts_what_is_there_and_is_mismatched(
        tmp_path, name, faststart):
    path = truncate(write_av(str(tmp_path / name), seconds=4.0, fps=5,
                             faststart=faststart), 0.5)
    _, wav_path, result = convert(tmp_path, path)
    assert result.video_seconds == pytest.approx(4.0, abs=0.05)
    assert result.mismatched
    assert sf.info(wav_path).duration < 3.5


def test_truncated_mp4_without_index_is_unreadable(tmp_path):
    # PyAV, like most encoders, writes the mp4 index at the end.
    path = truncate(write_av(str(tmp_path / 'cut.mp4'), seconds=2.0), 0.5)
    with pytest.raises(MediaDecodeError, match='cut.mp4: cannot decode.*'
                       'truncated'):
        convert(tmp_path, path)
    assert not os.path.exists(tmp_path / 'frames' / 'vid')


def test_empty_file_is_unreadable(tmp_path):
    path = tmp_path / 'empty.webm'
    path.touch()
    with pytest.raises(MediaDecodeError, match=r'empty.webm: .*empty \(0 '
                       r'bytes\).*re-download'):
        convert(tmp_path, str(path))


@pytest.mark.parametrize('writer', [
    lambda path: write_av(path + '.mp4', video_codec=None),
    lambda path: write_with_cover_art(path + '.mp4'),
])
def test_audio_only_files_are_unreadable(tmp_path, writer):
    path = writer(str(tmp_path / 'song'))
    with pytest.raises(MediaDecodeError,
                       match='song.mp4: no video stream.*audio-only'):
        convert(tmp_path, path)


def test_video_without_audio_stream_webm(tmp_path):
    path = write_av(str(tmp_path / 'mute.webm'), video_codec='libvpx',
                    audio_codec=None)
    with pytest.raises(MediaDecodeError, match='mute.webm: no audio stream'):
        convert(tmp_path, path)


def test_convert_many_reports_mismatched_videos(tmp_path):
    good = write_av(str(tmp_path / 'good.mp4'), seconds=2.0, fps=2)
    short_audio = write_av(str(tmp_path / 'short.mkv'), seconds=3.0, fps=2,
                           audio_seconds=1.0)
    summary = convert_many([
        make_job(tmp_path, 'good', good),
        make_job(tmp_path, 'short', short_audio)
    ])
    assert summary.converted == ['good', 'short']
    assert [vid for vid, _ in summary.mismatched] == ['short']
    report = summary.format()
    assert '1 converted video(s) have frames or audio shorter' in report
    assert 'short: video 3.00 s, frames 3 s, audio 1.00 s' in report
