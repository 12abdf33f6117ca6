"""Decoding a video file: 1 fps frames (as JPEG bytes) and mono int16
audio, in memory.

Decoding uses PyAV (FFmpeg's libraries in-process), so no ``ffmpeg`` binary
is needed. One pass over the container demuxes the first video and the
first audio stream together and stops as soon as both have delivered
``max_seconds`` of content.

Real downloads are read as they come: any container and codec FFmpeg
decodes (mp4, mkv, webm; H.264, VP8/9; AAC, MP3, Opus, at any rate and
channel count), variable frame rates (frames are picked by timestamp) and
any orientation. Cover art (an attached picture) is not a video stream.

The frames stay in memory as the very JPEG bytes the dataset converters
write (:mod:`.conversion` writes what :func:`decode_media` returns), and
the audio as the int16 samples of their wav, so whatever reads
:func:`decode_media` (``molt.apis``, inference on a user's video) sees
exactly what a dataset reads from the converted files.
"""
import io
import math
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Tuple

import av
import numpy as np
from PIL import Image

__all__ = [
    'MediaDecodeError', 'DecodedMedia', 'decode_media', 'encode_frame',
    'AUDIO_TOLERANCE'
]

JPEG_QUALITY = 95
#: Audio may end this many seconds early without counting as short: the
#: priming and padding of AAC/MP3/Opus shift a decoded track by a few tens
#: of milliseconds. The last segment then starts that much earlier.
AUDIO_TOLERANCE = 0.05


class MediaDecodeError(RuntimeError):
    """A video could not be decoded; the message names the file and why."""


@dataclass
class DecodedMedia:
    """What :func:`decode_media` read from a video, in memory.

    Attributes:
        frames: One JPEG per second (``frames[i]``: the frame nearest to
            ``i + 0.5`` s), the bytes :func:`~.conversion.convert_video`
            writes to ``{i:02d}.jpg``.
        samples: Mono int16 audio at ``sample_rate``, ``(num_samples,)``;
            empty when the file has no audio stream (``has_audio`` False).
        sample_rate: Audio rate in Hz.
        video_seconds: Length of the video (the container's duration, or
            the longer stream when it has none), at most ``max_seconds``.
        frame_size: ``(height, width)`` of the source picture, before the
            short-side resize.
        has_audio: Whether the file has an audio stream.
        note: Why decoding stopped early (``''`` when it did not).
    """
    frames: List[bytes]
    samples: np.ndarray
    sample_rate: int
    video_seconds: float
    frame_size: Tuple[int, int]
    has_audio: bool = True
    note: str = ''

    @property
    def num_frames(self) -> int:
        """Seconds covered by the frames (a partial last second counts)."""
        return len(self.frames)

    @property
    def audio_seconds(self) -> float:
        """Length of the audio in seconds."""
        return self.samples.size / self.sample_rate


def _resized_size(width: int, height: int,
                  short_side: int) -> Tuple[int, int]:
    """(width, height) with the shorter side scaled to ``short_side``."""
    if short_side <= 0:
        return width, height
    scale = short_side / min(width, height)
    return (max(1, round(width * scale)), max(1, round(height * scale)))


def encode_frame(frame: av.VideoFrame, short_side: int) -> bytes:
    """One decoded frame as RGB JPEG bytes, resized by its short side (0
    keeps the size)."""
    image = frame.to_image()  # PIL RGB, whatever the source pixel format
    size = _resized_size(image.width, image.height, short_side)
    if size != image.size:
        # PIL's bicubic filter widens its support when shrinking, so
        # downscaling is antialiased.
        image = image.resize(size, Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format='JPEG', quality=JPEG_QUALITY)
    return buffer.getvalue()


class _FramePicker:
    """Picks, for each second ``i``, the frame nearest to ``i + 0.5`` s and
    keeps it as JPEG bytes (:func:`encode_frame`).

    Frames arrive in presentation order, so the distance to a target first
    shrinks and then grows: the previous frame is the nearest one as soon as
    the current frame is no closer. Only one decoded frame is held.

    Args:
        max_seconds: Number of targets (seconds) at most (``math.inf``: no
            limit).
        short_side: Resize argument of :func:`encode_frame`.
        origin: Stream start time in seconds; timestamps count from it.
        frame_step: Nominal frame duration in seconds (for the covered span
            and for frames without a timestamp).
    """

    def __init__(self, max_seconds: float, short_side: int,
                 origin: Optional[float], frame_step: float) -> None:
        self.max_seconds = max_seconds
        self.short_side = short_side
        self.origin = origin
        self.frame_step = frame_step
        self.next_target = 0
        self.num_decoded = 0
        self.prev: Optional[Tuple[float, av.VideoFrame]] = None
        #: The picked frames, one JPEG per second.
        self.frames: List[bytes] = []
        #: ``(height, width)`` of the decoded frames.
        self.frame_size = (0, 0)
        #: Seconds the decoded frames span (set by :meth:`finish`).
        self.span = 0.0

    @property
    def done(self) -> bool:
        """All ``max_seconds`` frames are picked."""
        return self.next_target >= self.max_seconds

    def add(self, frame: av.VideoFrame) -> None:
        """Feeds the next decoded frame."""
        if frame.time is None:
            # No timestamp (rare raw streams): fall back to the frame count.
            time = self.num_decoded * self.frame_step
        else:
            if self.origin is None:
                self.origin = frame.time
            time = frame.time - self.origin
        self.num_decoded += 1
        self.frame_size = (frame.height, frame.width)
        while self.prev is not None and not self.done:
            target = self.next_target + 0.5
            if abs(time - target) < abs(self.prev[0] - target):
                break
            self._write(self.prev[1])
        self.prev = (time, frame)

    def finish(self) -> int:
        """Picks the last frame for the remaining covered seconds.

        Returns:
            The number of frames picked.
        """
        if self.prev is not None:
            # Seconds covered, whole or partial; the tolerance keeps a
            # 4.0000001 s span from counting as 5 seconds.
            end = self.prev[0] + self.frame_step
            self.span = end
            covered = min(self.max_seconds, math.ceil(end - 1e-3))
            while self.next_target < covered:
                self._write(self.prev[1])
        return self.next_target

    def _write(self, frame: av.VideoFrame) -> None:
        self.frames.append(encode_frame(frame, self.short_side))
        self.next_target += 1


class _AudioCollector:
    """Resamples decoded audio to mono s16 and keeps the first samples.

    Args:
        sample_rate: Output rate in Hz.
        max_samples: Number of output samples to keep at most
            (``math.inf``: no limit).
    """

    def __init__(self, sample_rate: int, max_samples: float) -> None:
        self.resampler = av.AudioResampler(
            format='s16', layout='mono', rate=sample_rate)
        self.max_samples = max_samples
        self.chunks: List[np.ndarray] = []
        self.num_samples = 0

    @property
    def done(self) -> bool:
        """Enough samples are collected."""
        return self.num_samples >= self.max_samples

    def add(self, frame: Optional[av.AudioFrame]) -> None:
        """Feeds a decoded frame; ``None`` flushes the resampler."""
        for out in self.resampler.resample(frame):
            chunk = out.to_ndarray().reshape(-1)  # packed mono: (1, n)
            self.chunks.append(chunk)
            self.num_samples += chunk.size

    def samples(self) -> np.ndarray:
        """Returns the collected int16 samples, shape ``(num_samples,)``."""
        if not self.chunks:
            return np.zeros(0, dtype=np.int16)
        samples = np.concatenate(self.chunks)
        return (samples if self.max_samples >= samples.size else
                samples[:int(self.max_samples)])


def _picture_stream(container: av.container.InputContainer,
                    video_path: str) -> av.video.stream.VideoStream:
    """The first video stream that is not cover art (an attached picture,
    as music files and some downloads carry)."""
    streams = [
        s for s in container.streams.video
        if not s.disposition & av.stream.Disposition.attached_pic
    ]
    if not streams:
        art = ' (only cover art)' if container.streams.video else ''
        raise MediaDecodeError(
            f'{video_path}: no video stream{art}; this is an audio-only '
            'file and the picture is needed: download the video')
    return streams[0]


def _declared_seconds(container: av.container.InputContainer) -> float:
    """The container's duration in seconds (0 when it declares none)."""
    if container.duration is None:
        return 0.0
    return container.duration / av.time_base


def _decode(container: av.container.InputContainer, video_path: str,
            max_seconds: float, sample_rate: int, short_side: int,
            require_audio: bool) -> DecodedMedia:
    """Demuxes both streams in one pass, picking frames as they come.

    A decoding error after some frames and audio were decoded (a truncated
    download) ends the pass: what was decoded is kept, and the error is
    returned as a note (the result then covers less than the video and is
    reported as mismatched).

    Args:
        container: The opened input.
        video_path: Input path, for error messages.
        max_seconds, sample_rate, short_side, require_audio: As in
            :func:`decode_media` (``max_seconds`` may be ``math.inf``).
    """
    video = _picture_stream(container, video_path)
    if not container.streams.audio and require_audio:
        raise MediaDecodeError(
            f'{video_path}: no audio stream (the dataset needs the sound '
            'track; re-download the video with audio)')
    audio = container.streams.audio[0] if container.streams.audio else None
    rate = video.average_rate or video.guessed_rate or 25
    origin = (float(video.start_time * video.time_base)
              if video.start_time is not None else None)
    picker = _FramePicker(max_seconds, short_side, origin, 1.0 / float(rate))
    collector = _AudioCollector(sample_rate, max_seconds * sample_rate)
    streams = [video] if audio is None else [video, audio]

    note = ''
    try:
        for packet in container.demux(*streams):
            if packet.stream is video and not picker.done:
                for frame in packet.decode():
                    picker.add(frame)
            elif packet.stream is audio and not collector.done:
                for frame in packet.decode():
                    collector.add(frame)
            if picker.done and (audio is None or collector.done):
                break
    except av.FFmpegError as error:
        if picker.num_decoded == 0 or (audio is not None
                                       and not collector.chunks):
            raise
        note = f'decoding stopped early ({error})'
    if audio is not None:
        collector.add(None)
    num_frames = picker.finish()
    if num_frames == 0:
        raise MediaDecodeError(f'{video_path}: no decodable video frames')
    samples = collector.samples()
    if audio is not None and samples.size == 0:
        raise MediaDecodeError(f'{video_path}: no decodable audio samples')
    declared = _declared_seconds(container)
    video_seconds = min(max_seconds,
                        max(declared, picker.span, samples.size / sample_rate))
    return DecodedMedia(picker.frames, samples, sample_rate, video_seconds,
                        picker.frame_size, audio is not None, note)


def decode_media(video_path: str,
                 max_seconds: Optional[int] = None,
                 sample_rate: int = 32000,
                 short_side: int = 256,
                 require_audio: bool = True) -> DecodedMedia:
    """Decodes a video into 1 fps JPEG frames and mono audio, in memory:
    the sampling of :func:`~.conversion.convert_video`, without writing
    files.

    Frame ``i`` is the decoded frame nearest to ``i + 0.5`` s, for
    ``i < n = min(max_seconds, seconds covered by the video stream, a
    partial last second included)``, resized by its short side and encoded
    as JPEG (quality 95). The audio is the first ``max_seconds`` seconds of
    the first audio stream, downmixed to mono, resampled to
    ``sample_rate``, int16. Short videos are not padded. A file that ends
    early (a truncated download) is decoded as far as it goes and the
    reason is kept in :attr:`DecodedMedia.note`.

    Args:
        video_path: Input video (any container/codec FFmpeg can read).
        max_seconds: Keep at most this many seconds; None keeps all.
        sample_rate: Output audio sample rate in Hz.
        short_side: Resize frames so their shorter side has this many
            pixels, keeping the aspect ratio; 0 keeps the original size.
        require_audio: Refuse a file without an audio stream; with False
            such a file gives empty ``samples`` and ``has_audio=False``.

    Raises:
        MediaDecodeError: The file is missing, empty or corrupt, or lacks a
            video stream (an audio-only file), an audio stream (when
            required) or decodable frames.
    """
    if not osp.isfile(video_path):
        raise MediaDecodeError(
            f'{video_path}: video file not found (download it or remove '
            'it from the annotations)')
    if osp.getsize(video_path) == 0:
        raise MediaDecodeError(
            f'{video_path}: the file is empty (0 bytes); the download '
            'failed, re-download it')
    limit = math.inf if max_seconds is None else max_seconds
    try:
        with av.open(video_path) as container:
            return _decode(container, video_path, limit, sample_rate,
                           short_side, require_audio)
    except av.FFmpegError as error:
        # PyAV's OS-level errors (permission, I/O) are FFmpegErrors too.
        raise MediaDecodeError(
            f'{video_path}: cannot decode ({error}); the file is probably '
            'corrupt or truncated, re-download it') from error
