"""Converting videos to the datasets' files: 1 fps JPEG frames and a mono
wav per video (what :mod:`.decoding` decodes, written to disk).

Output of :func:`convert_video` for a video covering ``n`` seconds::

    frame_dir/00.jpg ... frame_dir/{n-1:02d}.jpg   one RGB frame per second
    wav_path                                       16-bit PCM, mono

Short videos are *not* padded here: the datasets repeat the last second at
load time (and report it), so the files on disk always show what the video
really holds. Each result records the video's declared length too, so a
video whose frames or audio end early (a truncated download, an audio
track shorter than the picture) is reported by the converters
(:attr:`ConversionResult.mismatched`).

Resuming: frames are written first and the wav is moved into place last, so
"the wav exists" means "this video is complete" (see :func:`is_converted`).
"""
import contextlib
import math
import multiprocessing
import os
import os.path as osp
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import List, Sequence, Tuple, Union

import numpy as np
import soundfile as sf
from tqdm import tqdm

from .decoding import AUDIO_TOLERANCE, MediaDecodeError, decode_media

__all__ = [
    'ConversionResult', 'ConversionJob', 'ConversionSummary',
    'convert_video', 'convert_many', 'is_converted'
]


@dataclass
class ConversionResult:
    """What :func:`convert_video` wrote.

    Attributes:
        num_frames: Number of JPEG frames written (one per second).
        audio_seconds: Length of the written wav in seconds.
        video_seconds: Length of the video (the container's duration, or
            the longer stream when it has none), at most ``max_seconds``.
        note: Why decoding stopped early (``''`` when it did not).
    """
    num_frames: int
    audio_seconds: float
    video_seconds: float
    note: str = ''

    @property
    def mismatched(self) -> bool:
        """The frames or the audio cover less than the video: ``n`` frames
        cover up to ``n`` seconds; audio may be short by
        ``AUDIO_TOLERANCE`` (codec padding)."""
        covered = self.video_seconds - AUDIO_TOLERANCE
        return (self.num_frames < math.ceil(covered)
                or self.audio_seconds < covered)

    def describe(self) -> str:
        """``'video 10.00 s, frames 6 s, audio 6.00 s'``."""
        text = (f'video {self.video_seconds:.2f} s, frames {self.num_frames} '
                f's, audio {self.audio_seconds:.2f} s')
        return f'{text}; {self.note}' if self.note else text


@dataclass
class ConversionJob:
    """One video to convert (picklable, so it can go to a worker process).

    Attributes:
        video_id: Identifier used in summaries (e.g. the YouTube id).
        video_path: Input video file.
        frame_dir: Folder that receives ``00.jpg``, ``01.jpg``, ...
        wav_path: Output wav file.
        max_seconds: Keep at most this many seconds of frames and audio.
        sample_rate: Output audio sample rate in Hz.
        short_side: Resize frames so the shorter side has this many pixels
            (0 keeps the original size).
    """
    video_id: str
    video_path: str
    frame_dir: str
    wav_path: str
    max_seconds: int
    sample_rate: int = 32000
    short_side: int = 256


@dataclass
class ConversionSummary:
    """Outcome of :func:`convert_many`.

    Attributes:
        converted: Ids converted in this run.
        skipped: Ids that were already converted (resume).
        failed: ``(video_id, reason)`` pairs of videos that could not be
            converted.
        mismatched: ``(video_id, result)`` of the videos converted in this
            run whose frames or audio cover less than the video.
    """
    converted: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    failed: List[Tuple[str, str]] = field(default_factory=list)
    mismatched: List[Tuple[str, ConversionResult]] = field(
        default_factory=list)

    def format(self, limit: int = 10) -> str:
        """Returns a short human-readable report listing every failure and
        the first ``limit`` mismatched videos."""
        total = len(self.converted) + len(self.skipped) + len(self.failed)
        lines = [
            f'{total} videos: {len(self.converted)} converted, '
            f'{len(self.skipped)} already done, {len(self.failed)} failed'
        ]
        if self.failed:
            lines.append('Failed videos (id: reason):')
            lines += [f'  {vid}: {reason}' for vid, reason in self.failed]
        if self.mismatched:
            lines.append(
                f'{len(self.mismatched)} converted video(s) have frames or '
                'audio shorter than the video (the datasets repeat their '
                'last second; re-download them if that is wrong):')
            lines += [
                f'  {vid}: {result.describe()}'
                for vid, result in self.mismatched[:limit]
            ]
            if len(self.mismatched) > limit:
                lines.append(f'  ... and {len(self.mismatched) - limit} more')
        return '\n'.join(lines)


def is_converted(frame_dir: str, wav_path: str) -> bool:
    """Whether a video was fully converted by :func:`convert_video`.

    The wav is written last, so its presence marks a finished video.

    Args:
        frame_dir: The video's frame folder.
        wav_path: The video's wav file.

    Returns:
        True when both ``wav_path`` and ``frame_dir/00.jpg`` exist.
    """
    return osp.isfile(wav_path) and osp.isfile(osp.join(frame_dir, '00.jpg'))


def _remove_frames(frame_dir: str, max_seconds: int) -> None:
    """Removes the frames of a failed conversion, and the folder if empty.

    A failed video then leaves nothing behind that looks like usable data.
    """
    for i in range(max_seconds):
        path = osp.join(frame_dir, f'{i:02d}.jpg')
        if osp.exists(path):
            os.remove(path)
    if not os.listdir(frame_dir):
        os.rmdir(frame_dir)


def _write_wav_atomically(samples: np.ndarray, wav_path: str,
                          sample_rate: int) -> None:
    """Writes a 16-bit PCM wav under a temporary name, then renames it.

    The rename is the last step of a conversion: an interrupted run never
    leaves a complete-looking wav behind.
    """
    tmp_path = wav_path + '.part'
    try:
        sf.write(tmp_path, samples, sample_rate, subtype='PCM_16',
                 format='WAV')
        os.replace(tmp_path, wav_path)
    finally:
        if osp.exists(tmp_path):
            os.remove(tmp_path)


def convert_video(video_path: str,
                  frame_dir: str,
                  wav_path: str,
                  max_seconds: int,
                  sample_rate: int = 32000,
                  short_side: int = 256) -> ConversionResult:
    """Decodes one video into 1 fps JPEG frames and a mono wav: the files
    hold what :func:`decode_media` returns.

    Frame ``i`` (``frame_dir/{i:02d}.jpg``) is the decoded frame nearest to
    ``i + 0.5`` s, for ``i < n = min(max_seconds, seconds covered by the
    video stream, a partial last second included)``. The audio is the first
    ``max_seconds`` seconds of the first audio stream, downmixed to mono and
    resampled to ``sample_rate``. Short videos are not padded.

    Args:
        video_path: Input video (any container/codec FFmpeg can read).
        frame_dir: Output folder for the frames (created if missing).
        wav_path: Output wav path (its folder is created if missing).
        max_seconds: Keep at most this many seconds.
        sample_rate: Output audio sample rate in Hz.
        short_side: Resize frames so their shorter side has this many
            pixels, keeping the aspect ratio; 0 keeps the original size.

    A file that ends early (a truncated download) is converted as far as
    it decodes; its result then covers less than the declared video
    (:attr:`ConversionResult.mismatched`).

    Returns:
        The number of frames and the audio length written, and the
        video's length.

    Raises:
        MediaDecodeError: The file is missing, empty or corrupt, or lacks a
            video stream (an audio-only file), an audio stream or decodable
            frames. Errors while writing the outputs (e.g. a full disk) are
            not wrapped.
    """
    os.makedirs(osp.dirname(osp.abspath(wav_path)), exist_ok=True)
    try:
        media = decode_media(video_path, max_seconds, sample_rate, short_side)
    except MediaDecodeError:
        # Frames an interrupted earlier run left behind are not usable data.
        if osp.isdir(frame_dir):
            _remove_frames(frame_dir, max_seconds)
        raise
    os.makedirs(frame_dir, exist_ok=True)
    for second, jpeg in enumerate(media.frames):
        with open(osp.join(frame_dir, f'{second:02d}.jpg'), 'wb') as f:
            f.write(jpeg)
    _write_wav_atomically(media.samples, wav_path, sample_rate)
    return ConversionResult(media.num_frames, media.audio_seconds,
                            media.video_seconds, media.note)


def _run_job(job: ConversionJob) -> Union[ConversionResult, str]:
    """Worker: converts one job; returns its result or the error message."""
    try:
        return convert_video(job.video_path, job.frame_dir, job.wav_path,
                             job.max_seconds, job.sample_rate, job.short_side)
    except MediaDecodeError as error:
        return str(error)


def convert_many(jobs: Sequence[ConversionJob],
                 nproc: int = 1,
                 desc: str = 'videos') -> ConversionSummary:
    """Runs :func:`convert_video` over many videos, resumably.

    Jobs whose outputs already exist (:func:`is_converted`) are skipped; a
    :class:`MediaDecodeError` is recorded and the run goes on.

    Args:
        jobs: The videos to convert.
        nproc: Number of worker processes (started with ``spawn``); 1
            converts in this process.
        desc: Label of the progress bar.

    Returns:
        Which videos were converted (and which of those are mismatched),
        skipped or failed (with reasons), in the order of ``jobs``.
    """
    summary = ConversionSummary()
    pending = []
    for job in jobs:
        if is_converted(job.frame_dir, job.wav_path):
            summary.skipped.append(job.video_id)
        else:
            pending.append(job)

    with contextlib.ExitStack() as stack:
        if nproc > 1 and len(pending) > 1:
            # 'spawn', not Linux's default 'fork': a process forked from a
            # parent with live threads (torch's OpenMP pool, decoder
            # threads) can deadlock on a lock one of them held. An
            # executor, not a Pool: a worker that dies (killed for memory)
            # breaks it with an error, where a Pool waits forever.
            pool = ProcessPoolExecutor(
                min(nproc, len(pending)),
                mp_context=multiprocessing.get_context('spawn'))
            # On an error or Ctrl-C, drop the videos not yet started.
            stack.callback(pool.shutdown, cancel_futures=True)
            # map keeps results aligned with ``pending``.
            results = pool.map(_run_job, pending)
        else:
            results = map(_run_job, pending)
        progress = tqdm(results, total=len(pending), desc=desc, unit='video')
        try:
            for job, result in zip(pending, progress):
                if isinstance(result, str):
                    summary.failed.append((job.video_id, result))
                    continue
                summary.converted.append(job.video_id)
                if result.mismatched:
                    summary.mismatched.append((job.video_id, result))
        except BrokenProcessPool as error:
            done = len(summary.converted) + len(summary.failed)
            raise RuntimeError(
                f'A conversion worker died after {done} of {len(pending)} '
                f'{desc} (killed for lack of memory?). '
                'The videos finished so far are kept: run the same command '
                'again, with a smaller --nproc, to convert the rest.'
            ) from error
    return summary
