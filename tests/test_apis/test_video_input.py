"""A user's video is read exactly as its converted copy would be."""
import os

import numpy as np
import pytest

from molt.apis import VideoInputError, list_videos, read_video
from molt.datasets.media import MediaDecodeError, convert_video
from molt.datasets.transforms import LoadAudio, LoadFrames
from molt_media import truncate, write_av, write_with_cover_art
from molt_testing import write_corrupt_video


@pytest.mark.parametrize('kind', ['mp4', 'mkv', 'webm'])
def test_frames_and_audio_equal_the_converted_files(tmp_path, videos, kind):
    """Same frames (bit for bit), same seconds, same waveform as
    convert_video + LoadFrames + LoadAudio."""
    path = videos[kind]
    video = read_video(path)
    frame_dir, wav_path = str(tmp_path / 'frames'), str(tmp_path / 'a.wav')
    result = convert_video(path, frame_dir, wav_path, max_seconds=100)
    assert video.num_seconds == result.num_frames == len(os.listdir(frame_dir))
    seconds = list(range(video.num_seconds))
    loaded = LoadAudio(32000)(
        LoadFrames()(dict(frame_dir=frame_dir, segment_seconds=seconds,
                          audio_path=wav_path)))
    for second in seconds:
        np.testing.assert_array_equal(video.frame(second),
                                      loaded['frames'][second])
    np.testing.assert_array_equal(video.waveform(32000), loaded['waveform'])
    assert video.notes == []
    # The frame size of the video itself, before the short-side resize.
    width, height = (48, 32) if kind != 'mkv' else (32, 48)
    assert video.frame_size == (height, width)
    assert min(video.frame(0).shape[:2]) == 256


def test_waveform_is_resampled_like_load_audio(tmp_path, videos):
    video = read_video(videos['webm'])
    wav = str(tmp_path / 'a.wav')
    convert_video(videos['webm'], str(tmp_path / 'f'), wav, max_seconds=10)
    loaded = LoadAudio(16000)(dict(audio_path=wav))
    np.testing.assert_array_equal(video.waveform(16000), loaded['waveform'])


def test_no_audio_stream_fails_or_is_silent_when_asked(tmp_path):
    path = write_av(str(tmp_path / 'mute.webm'), seconds=2.0, fps=4,
                    video_codec='libvpx', audio_codec=None)
    with pytest.raises(VideoInputError,
                       match='mute.webm: no audio stream.*--missing-audio '
                       'silence'):
        read_video(path)
    video = read_video(path, missing_audio='silence')
    assert video.silent and video.num_seconds == 2
    assert not video.waveform(32000).any()
    assert video.waveform(32000).shape == (64000, )
    assert 'heard silence' in video.notes[0]


@pytest.mark.parametrize('make,error,message', [
    (lambda p: write_av(p + '.mp4', video_codec=None), MediaDecodeError,
     'no video stream.*audio-only'),
    (lambda p: write_with_cover_art(p + '.mp4'), MediaDecodeError,
     r'no video stream \(only cover art\).*audio-only'),
    (lambda p: write_corrupt_video(p + '.mp4'), MediaDecodeError,
     'cannot decode.*corrupt'),
    (lambda p: truncate(write_av(p + '.mp4', seconds=2.0), 0.5),
     MediaDecodeError, 'cannot decode.*truncated'),
    (lambda p: open(p + '.mp4', 'wb').close() or p + '.mp4',
     VideoInputError, r'the file is empty \(0 bytes\)'),
    (lambda p: p + '.mp4', VideoInputError, 'no such file'),
])
def test_bad_files_fail_naming_the_file(tmp_path, make, error, message):
    path = make(str(tmp_path / 'bad'))
    with pytest.raises(error, match='bad.mp4: ' + message):
        read_video(path)


def test_truncated_video_that_still_decodes_says_so(tmp_path):
    path = truncate(write_av(str(tmp_path / 'cut.mkv'), seconds=4.0, fps=4),
                    0.5)
    video = read_video(path)
    assert 1 <= video.num_seconds < 4
    assert any('frames cover' in note and 'truncated' in note
               for note in video.notes)


def test_audio_shorter_than_the_picture_is_noted(tmp_path):
    path = write_av(str(tmp_path / 'v.mkv'), seconds=4.0, fps=4,
                    audio_seconds=1.5)
    notes = read_video(path).notes
    assert len(notes) == 1 and 'audio covers 1.5' in notes[0]


def test_folders_give_their_videos(tmp_path, videos):
    folder = tmp_path / 'clips'
    folder.mkdir()
    (folder / 'b.MP4').write_bytes(b'x')
    (folder / 'a.webm').write_bytes(b'x')
    (folder / 'notes.txt').write_text('x')
    (folder / 'sub').mkdir()
    found, ignored = list_videos([videos['mp4'], str(folder), 'missing.mov'])
    assert found == [videos['mp4'], str(folder / 'a.webm'),
                     str(folder / 'b.MP4'), 'missing.mov']
    assert ignored == [str(folder / 'notes.txt')]
