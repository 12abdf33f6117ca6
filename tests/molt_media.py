"""Real-world media for the tests, written with PyAV and soundfile.

Imported as ``molt_media`` (``conftest.py`` puts this folder on
``sys.path``). Everything is tiny (a few frames of 32x24 pixels, seconds of
audio) so that tests stay fast.
"""
import os
import os.path as osp
import shutil
from fractions import Fraction
from typing import Optional, Sequence

import av
import mmcv
import numpy as np
import soundfile

TONE_HZ = 1000
MS = Fraction(1, 1000)


def grey(index: int) -> int:
    """The grey level of video frame ``index`` (to recognise it)."""
    return (20 * index) % 250


def _add_video_stream(container, codec: str, size, fps):
    stream = container.add_stream(codec, rate=fps)
    stream.width, stream.height = size
    stream.pix_fmt = 'yuv420p'
    stream.codec_context.time_base = MS
    stream.time_base = MS
    return stream


def _encode_video(container, stream, size, frame_times) -> None:
    for index, time in enumerate(frame_times):
        image = np.full((size[1], size[0], 3), grey(index), np.uint8)
        frame = av.VideoFrame.from_ndarray(image, format='rgb24')
        frame.pts, frame.time_base = round(time * 1000), MS
        container.mux(stream.encode(frame))
    container.mux(stream.encode())


def _add_audio_stream(container, codec: str, rate: int):
    stream = container.add_stream(codec, rate=rate)
    stream.layout = 'stereo'
    return stream


def _encode_audio(container, stream, seconds: float) -> None:
    rate = stream.rate
    resampler = av.AudioResampler(
        format=stream.format.name, layout='stereo', rate=rate)
    total = round(seconds * rate)
    for start in range(0, total, 1024):
        t = np.arange(start, min(start + 1024, total)) / rate
        wave = (0.5 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(
            np.stack([wave, 0.5 * wave]), format='fltp', layout='stereo')
        frame.sample_rate, frame.pts = rate, start
        for out in resampler.resample(frame):
            container.mux(stream.encode(out))
    for out in resampler.resample(None):
        container.mux(stream.encode(out))
    container.mux(stream.encode())


def write_av(path: str,
             seconds: float = 2.0,
             fps: float = 5,
             size=(32, 24),
             video_codec: Optional[str] = 'libx264',
             audio_codec: Optional[str] = 'aac',
             audio_rate: int = 48000,
             audio_seconds: Optional[float] = None,
             frame_times: Optional[Sequence[float]] = None,
             faststart: bool = False) -> str:
    """Writes a video file; the container follows the file extension.

    Frame ``i`` is flat grey :func:`grey(i) <grey>`; the audio is a stereo
    1 kHz tone.

    Args:
        path: Output file (``.mp4``, ``.mkv``, ``.webm``, ...).
        seconds: Video length (frames at ``fps``).
        fps: Frame rate.
        size: ``(width, height)``.
        video_codec: Encoder, or None for an audio-only file.
        audio_codec: Encoder (``'aac'``, ``'libmp3lame'``, ``'libopus'``),
            or None for no audio stream.
        audio_rate: Audio sample rate.
        audio_seconds: Audio length; defaults to ``seconds``.
        frame_times: Frame timestamps in seconds (a variable frame rate);
            default ``i / fps``.
        faststart: Put the mp4 index first (as streaming sites do), so a
            truncated file still decodes up to where it ends.
    """
    options = {'movflags': 'faststart'} if faststart else {}
    with av.open(path, 'w', options=options) as container:
        # Every stream exists before the first packet is written.
        video = (None if video_codec is None else _add_video_stream(
            container, video_codec, size, fps))
        audio = (None if audio_codec is None else _add_audio_stream(
            container, audio_codec, audio_rate))
        if video is not None:
            times = (frame_times if frame_times is not None else
                     [i / fps for i in range(round(seconds * fps))])
            _encode_video(container, video, size, times)
        if audio is not None:
            _encode_audio(container, audio,
                          seconds if audio_seconds is None else audio_seconds)
    return path


def write_with_cover_art(path: str, seconds: float = 2.0) -> str:
    """An audio file (mp4/AAC) whose only picture is cover art."""
    with av.open(path, 'w') as container:
        audio = _add_audio_stream(container, 'aac', 48000)
        art = container.add_stream('mjpeg', rate=1)
        art.width, art.height, art.pix_fmt = 32, 24, 'yuvj420p'
        art.disposition = av.stream.Disposition.attached_pic
        frame = av.VideoFrame.from_ndarray(
            np.zeros((24, 32, 3), np.uint8), format='rgb24')
        frame.pts = 0
        for packet in [*art.encode(frame), *art.encode()]:
            container.mux(packet)
        _encode_audio(container, audio, seconds)
    return path


def truncate(path: str, fraction: float = 0.5) -> str:
    """Cuts a file to ``fraction`` of its bytes (an interrupted download)."""
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * fraction)])
    return path


def write_wav(path: str, seconds: float, rate: int = 32000) -> str:
    """A mono 16-bit wav of a quiet tone, creating folders."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    t = np.arange(round(seconds * rate)) / rate
    soundfile.write(path, 0.1 * np.sin(2 * np.pi * 440 * t), rate,
                    subtype='PCM_16')
    return path


def write_converted(root: str, video_id: str, frames: int,
                    audio_seconds: float, rate: int = 8000) -> None:
    """A video in the converters' layout: ``frames/<id>/00.jpg ...``
    (``frames`` copies of one tiny JPEG) and ``audio/<id>.wav``."""
    frame_dir = osp.join(root, 'frames', video_id)
    first = osp.join(frame_dir, '00.jpg')
    mmcv.imwrite(np.full((8, 8, 3), 100, np.uint8), first)
    for second in range(1, frames):
        shutil.copyfile(first, osp.join(frame_dir, f'{second:02d}.jpg'))
    if frames == 0:
        os.remove(first)
    write_wav(osp.join(root, 'audio', f'{video_id}.wav'), audio_seconds,
              rate)
