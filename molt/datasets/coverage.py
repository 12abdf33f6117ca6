"""Do a sample's frames and audio cover the seconds it reads?

A sample reads one frame and one second of audio per entry of its
``segment_seconds``. When the media end earlier (a video shorter than the
protocol, a truncated wav, a missing last frame) the loading transforms
repeat the last second, as the peers do. The datasets check this once, at
start-up: :func:`check_coverage` logs how many samples will repeat frames
or audio, names the first few with both lengths, and keeps or skips them
(the datasets' ``mismatched_media`` argument).
"""
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple

from tqdm import tqdm

from .media_files import MediaFileError, count_frames, wav_seconds
from .utils import DATA_README, AnnotationError, log_once

__all__ = [
    'AUDIO_TOLERANCE', 'MISMATCHED_MEDIA', 'MediaCoverage',
    'check_mismatched_media', 'scan_media', 'check_coverage'
]

#: Audio may end this many seconds early without counting as repeated: the
#: priming and padding of AAC/MP3/Opus shift a decoded track by a few tens
#: of milliseconds. The last segment then starts that much earlier.
AUDIO_TOLERANCE = 0.05

#: Values of the datasets' ``mismatched_media`` argument.
MISMATCHED_MEDIA = ('keep', 'skip')


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


def check_mismatched_media(value: str, check_files: bool) -> str:
    """Validates a dataset's ``mismatched_media`` argument."""
    if value not in MISMATCHED_MEDIA:
        raise ValueError(f'mismatched_media={value!r}; use one of '
                         f'{MISMATCHED_MEDIA}.')
    if value == 'skip' and not check_files:
        raise ValueError("mismatched_media='skip' needs check_files=True "
                         '(the media are measured at start-up).')
    return value


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


def check_coverage(data_list: Sequence[dict],
                   coverage_of: Callable[[dict], MediaCoverage],
                   mismatched_media: str, source: str,
                   limit: int = 5) -> List[dict]:
    """Reports the samples whose media end before the seconds they read and
    keeps or skips them.

    Args:
        data_list: Samples with ``video_id`` and ``segment_seconds``.
        coverage_of: A sample's :class:`MediaCoverage`.
        mismatched_media: ``'keep'`` (the loaders repeat the last second)
            or ``'skip'`` (drop those samples).
        source: What is read (the annotation file), for the log.
        limit: Videos named in the log.

    Returns:
        ``data_list``, without the reported samples when skipping.

    Raises:
        AnnotationError: Skipping would leave no sample.
    """
    short = []  # (sample, consistent media, message)
    for info in data_list:
        coverage = coverage_of(info)
        needed = max(info['segment_seconds']) + 1
        frames, audio = coverage.shortfall(needed)
        if frames or audio:
            what = ' and '.join(
                name for name, flag in (('frames', frames), ('audio', audio))
                if flag)
            short.append((info, coverage.consistent,
                          f"{info['video_id']}: repeats {what}; reads "
                          f'{needed} s, {coverage.describe()}'))
    if not short:
        return list(data_list)
    disagree = sum(not consistent for _, consistent, _ in short)
    # A video with several samples (AVQA questions) is named once.
    messages = list(dict.fromkeys(message for _, _, message in short))
    names = '\n  '.join(messages[:limit])
    action = ('kept: the last second repeats (mismatched_media=\'keep\'; set '
              "'skip' to drop them)" if mismatched_media == 'keep' else
              "skipped (mismatched_media='skip')")
    log_once(f'{source}: {len(short)} of {len(data_list)} samples will repeat '
             f'frames or audio ({disagree} whose frames and audio disagree, '
             f'{len(short) - disagree} shorter than the seconds they read; '
             f'{len(messages)} video(s)); {action}. E.g.:\n  {names}')
    if mismatched_media == 'keep':
        return list(data_list)
    dropped = {id(info) for info, _, _ in short}
    kept = [info for info in data_list if id(info) not in dropped]
    if not kept:
        raise AnnotationError(
            f"{source}: mismatched_media='skip' leaves no sample: all "
            f'{len(data_list)} repeat frames or audio.')
    return kept

