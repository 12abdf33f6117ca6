"""Reading a user's video for inference, the way the dataset converters
read theirs.

:func:`read_video` calls :func:`molt.datasets.media.decode_media`, the
decoding and sampling of ``tools/dataset_converters`` (one frame per
second, the one nearest to the middle of the second, short side 256, JPEG
quality 95; the first audio stream downmixed to mono and resampled to
32 kHz, int16), in memory: nothing is written anywhere. A frame is then
decoded from its JPEG bytes and a waveform scaled from its int16 samples
exactly as the datasets read the converted files (``LoadFrames``,
``LoadAudio``), so a video gives the model the same numbers whether it is
converted into a dataset and tested, or given to the inferencer.
"""
import io
import math
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torchaudio
from PIL import Image

from molt.datasets.media import (AUDIO_TOLERANCE, SAMPLE_RATE, DecodedMedia,
                                 decode_media)
from .errors import VideoInputError

__all__ = [
    'VideoMedia', 'read_video', 'list_videos', 'MISSING_AUDIO_POLICIES',
    'SHORT_SIDE', 'VIDEO_EXTENSIONS'
]

#: Frame short side of the converters (``--short-side`` default).
SHORT_SIDE = 256
#: What to do with a video without an audio stream.
MISSING_AUDIO_POLICIES = ('error', 'silence')
#: File endings taken from a folder given as input (a file named directly
#: is read whatever its name).
VIDEO_EXTENSIONS = ('.mp4', '.mkv', '.webm', '.mov', '.avi', '.m4v', '.mpg',
                    '.mpeg', '.ts', '.flv', '.ogv', '.wmv', '.3gp')


@dataclass
class VideoMedia:
    """A decoded video, kept in memory as the converters would store it.

    Attributes:
        path: The video file.
        media: Frames (JPEG bytes, one per second) and int16 audio.
        silent: The file has no audio stream and the model hears silence
            (``missing_audio='silence'``).
        notes: What a user should know about how the video was read.
    """
    path: str
    media: DecodedMedia
    silent: bool = False
    notes: List[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The file name without its folder and extension."""
        return osp.splitext(osp.basename(self.path))[0]

    @property
    def num_seconds(self) -> int:
        """Seconds the frames cover (a partial last second counts)."""
        return self.media.num_frames

    @property
    def frame_size(self) -> Tuple[int, int]:
        """``(height, width)`` of the video's own frames."""
        return self.media.frame_size

    def frame(self, second: int) -> np.ndarray:
        """The frame of ``second`` as ``(h, w, 3)`` uint8 RGB (short side
        256), decoded from its JPEG like ``LoadFrames`` decodes the file."""
        with Image.open(io.BytesIO(self.media.frames[second])) as image:
            return np.asarray(image.convert('RGB'))

    def waveform(self, sample_rate: int) -> np.ndarray:
        """Mono float32 audio ``(samples,)`` at ``sample_rate``, as
        ``LoadAudio`` reads the converted wav (int16 / 32768; torchaudio
        resampling when the rate differs); zeros as long as the frames for
        a silent video."""
        media = self.media
        if self.silent:
            return np.zeros(self.num_seconds * sample_rate, np.float32)
        wave = media.samples.astype(np.float32) / 32768
        if media.sample_rate != sample_rate:
            wave = torchaudio.functional.resample(
                torch.from_numpy(wave), media.sample_rate,
                sample_rate).numpy()
        return np.ascontiguousarray(wave, dtype=np.float32)


def _coverage_notes(media: DecodedMedia, silent: bool) -> List[str]:
    notes = []
    if media.note:
        notes.append(f'The file ends early: {media.note}; the results cover '
                     f'the {media.num_frames} s that decode.')
    elif media.num_frames < math.ceil(media.video_seconds - AUDIO_TOLERANCE):
        notes.append(f'The frames cover {media.num_frames} s of the '
                     f'{media.video_seconds:.2f} s the file declares (a '
                     'truncated file?); the results cover those seconds.')
    if silent:
        notes.append('No audio stream: the model heard silence '
                     "(missing_audio='silence').")
    elif media.audio_seconds < media.video_seconds - AUDIO_TOLERANCE:
        notes.append(
            f'The audio covers {media.audio_seconds:.2f} s of the '
            f'{media.video_seconds:.2f} s video; later seconds hear its last '
            'whole second again (the datasets\' policy).')
    return notes


def read_video(path: str,
               missing_audio: str = 'error',
               max_seconds: Optional[int] = None,
               short_side: int = SHORT_SIDE) -> VideoMedia:
    """Decodes a video as the dataset converters do, in memory.

    Args:
        path: Any file PyAV (FFmpeg) reads: mp4, mkv, webm, ...
        missing_audio: ``'error'`` refuses a video without an audio
            stream; ``'silence'`` lets the model hear silence (the result
            says so).
        max_seconds: Read at most this many seconds (None: all).
        short_side: Frame short side; keep the converters' 256 unless the
            model's data was converted with another ``--short-side``.

    Raises:
        VideoInputError: No file, an empty file, or no audio stream (with
            ``missing_audio='error'``).
        MediaDecodeError: The file is not a video (an audio-only file) or
            cannot be decoded (corrupt, truncated before its first frames).
    """
    if missing_audio not in MISSING_AUDIO_POLICIES:
        raise ValueError(f'missing_audio={missing_audio!r}; use one of '
                         f'{MISSING_AUDIO_POLICIES}.')
    if not osp.isfile(path):
        raise VideoInputError(f'{path}: no such file; check the path.')
    if osp.getsize(path) == 0:
        raise VideoInputError(
            f'{path}: the file is empty (0 bytes); a download or copy '
            'failed: fetch the video again.')
    media = decode_media(path, max_seconds, SAMPLE_RATE, short_side,
                         require_audio=False)
    if not media.has_audio and missing_audio == 'error':
        raise VideoInputError(
            f'{path}: no audio stream, and the model needs the sound track. '
            'Use the video with its sound, or let the model hear silence '
            "(tools/infer.py --missing-audio silence; missing_audio='silence'"
            ' in Python), knowing that its answers then ignore the sound.')
    silent = not media.has_audio
    return VideoMedia(path, media, silent, _coverage_notes(media, silent))


def list_videos(inputs: Sequence[str]) -> Tuple[List[str], List[str]]:
    """Expands folders into their video files.

    A folder gives its files ending in :data:`VIDEO_EXTENSIONS` (not its
    sub-folders), sorted by name; any other path is kept as it is (a
    missing file then fails as that video's error).

    Returns:
        ``(videos, ignored)``: the video paths in order, and the files of
        the folders that were left out because of their ending.
    """
    videos, ignored = [], []
    for path in inputs:
        if not osp.isdir(path):
            videos.append(path)
            continue
        for name in sorted(os.listdir(path)):
            full = osp.join(path, name)
            if not osp.isfile(full):
                continue
            if name.lower().endswith(VIDEO_EXTENSIONS):
                videos.append(full)
            else:
                ignored.append(full)
    return videos, ignored
