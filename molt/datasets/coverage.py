"""Do a sample's frames and audio cover the seconds it reads?

A sample reads one frame and one second of audio per entry of its
``segment_seconds``. When the media end earlier (a video shorter than the
protocol, a truncated wav, a missing last frame) the loading transforms
repeat the last second, as the peers do. The datasets check this once, at
start-up: :func:`report_coverage` logs how many samples will repeat frames
or audio and names the first few with both lengths.
"""
from dataclasses import dataclass
from typing import Callable, Dict, Sequence, Tuple

from tqdm import tqdm

from .media.converted_files import (MediaFileError, count_frames,
                                    wav_seconds)
from .media.decoding import AUDIO_TOLERANCE
from molt.utils.run_report import report_data_issue
from .utils import DATA_README

__all__ = ['MediaCoverage', 'scan_media', 'report_coverage']


@dataclass(frozen=True)
class MediaCoverage:
    """How many seconds a video's media cover.

    Attributes:
        frame_seconds: Seconds with a frame (1 fps frames).
        audio_seconds: Length of the audio.
    """
    frame_seconds: int
    audio_seconds: float

    @property
    def consistent(self) -> bool:
        """Frames and audio describe the same length: ``n`` frames cover a
        video of ``(n - 1, n]`` seconds."""
        return (self.frame_seconds - 1 < self.audio_seconds + AUDIO_TOLERANCE
                and self.audio_seconds < self.frame_seconds + AUDIO_TOLERANCE)

    def shortfall(self, needed: int) -> Tuple[bool, bool]:
        """Whether frames and audio end before ``needed`` seconds."""
        return (self.frame_seconds < needed,
                self.audio_seconds < needed - AUDIO_TOLERANCE)

    def describe(self) -> str:
        cause = ('shorter than needed' if self.consistent else
                 'frames and audio disagree')
        return (f'frames {self.frame_seconds} s, audio '
                f'{self.audio_seconds:.2f} s ({cause})')


def scan_media(sources: Dict[str, Tuple[str, str]], dataset: str,
               frame_tmpl: str = '{:02d}.jpg',
               limit: int = 10) -> Dict[str, MediaCoverage]:
    """Measures the frames and wav of every video, from the file system and
    the wav headers (nothing is decoded).

    Args:
        sources: ``{video_id: (frame_dir, wav_path)}``.
        dataset: Dataset name for messages.
        frame_tmpl: File name pattern of the 1 fps frames.
        limit: Problems shown in the message.

    Returns:
        ``{video_id: MediaCoverage}``.

    Raises:
        FileNotFoundError: Listing the first ``limit`` missing or
            unreadable files (a missing first frame, a gap in the frames, a
            missing or damaged wav) and how many there are in all.
    """
    coverage, problems = {}, []
    for video_id, (frame_dir, wav_path) in tqdm(
            sources.items(), desc=f'{dataset}: measuring media', unit='video',
            delay=2, leave=False):
        try:
            frames = count_frames(frame_dir, frame_tmpl)
            if frames == 0:
                raise FileNotFoundError(
                    f'Frame not found: {frame_dir}/{frame_tmpl.format(0)}')
            coverage[video_id] = MediaCoverage(frames, wav_seconds(wav_path))
        except (FileNotFoundError, MediaFileError) as error:
            problems.append(str(error))
    if problems:
        shown = '\n  '.join(problems[:limit])
        raise FileNotFoundError(
            f'{dataset}: {len(problems)} video(s) have missing or unreadable '
            f'media, e.g.:\n  {shown}\nRun the dataset converter (see '
            f'{DATA_README}); videos it could not decode are listed in '
            'unreadable_videos.txt and are skipped.')
    return coverage


def report_coverage(data_list: Sequence[dict],
                    coverage_of: Callable[[dict], MediaCoverage],
                    source: str,
                    limit: int = 5) -> None:
    """Reports the samples whose media end before the seconds they read
    (the loaders repeat their last second) as a WARNING, counted again in
    the end-of-run summary (:mod:`molt.utils.run_report`).

    Args:
        data_list: Samples with ``video_id`` and ``segment_seconds``.
        coverage_of: A sample's :class:`MediaCoverage`.
        source: What is read (the annotation file), for the log.
        limit: Videos named in the log.
    """
    short = []  # (consistent media, message) per sample
    for info in data_list:
        coverage = coverage_of(info)
        needed = max(info['segment_seconds']) + 1
        frames, audio = coverage.shortfall(needed)
        if frames or audio:
            what = ' and '.join(
                name for name, flag in (('frames', frames), ('audio', audio))
                if flag)
            short.append((coverage.consistent,
                          f"{info['video_id']}: repeats {what}; reads "
                          f'{needed} s, {coverage.describe()}'))
    if not short:
        return
    disagree = sum(not consistent for consistent, _ in short)
    # A video with several samples (AVQA questions) is named once.
    messages = list(dict.fromkeys(message for _, message in short))
    names = '\n  '.join(messages[:limit])
    report_data_issue(
        f'{source}: {len(short)} of {len(data_list)} samples repeat frames '
        f'or audio ({disagree} whose frames and audio disagree, '
        f'{len(short) - disagree} shorter than the seconds they read; '
        f'{len(messages)} video(s)); their last second repeats, as in the '
        "peers' loaders", f'e.g.:\n  {names}')
