"""Converting a release: the plumbing shared by the dataset converters in
``tools/dataset_converters``.

A converter checks and reads a release's annotation files, collects the
video ids and calls :func:`convert_release`, which copies the annotation
files, converts every video to 1 fps JPEG frames and a 32 kHz mono wav with
:func:`~.conversion.convert_many` (resumable, parallel), and lists
the videos it could not decode in ``OUT_DIR/unreadable_videos.txt``
(``<video_id><TAB><reason>`` per line), the file the datasets read to skip
them, and the videos whose frames or audio cover less than the video (a
truncated download, an audio track shorter than the picture) in
``OUT_DIR/mismatched_media.txt`` with the three lengths. Output layout::

    OUT_DIR/<annotation files>                (copied)
    OUT_DIR/frames/<video_id>/00.jpg ...      (1 fps, short side 256)
    OUT_DIR/audio/<video_id>.wav              (32 kHz mono, 16-bit)
    OUT_DIR/unreadable_videos.txt             (only if some videos failed)
    OUT_DIR/mismatched_media.txt              (only if some are mismatched)

Videos are found as ``<video_id>.mp4``, ``.mkv`` or ``.webm`` (what video
downloaders write).
"""
import argparse
import os
import os.path as osp
import shutil
from typing import Dict, List, Sequence

from .conversion import ConversionJob, ConversionSummary, convert_many

__all__ = [
    'FAILED_LIST', 'MISMATCH_LIST', 'SAMPLE_RATE', 'VIDEO_EXTENSIONS',
    'converter_parser', 'require_files', 'locate_videos', 'convert_release'
]

FAILED_LIST = 'unreadable_videos.txt'
MISMATCH_LIST = 'mismatched_media.txt'
MISMATCH_HEADER = '# video_id\tvideo_seconds\tframe_seconds\taudio_seconds'
SAMPLE_RATE = 32000
#: File extensions of a video, in the order they are looked for.
VIDEO_EXTENSIONS = ('.mp4', '.mkv', '.webm')


def converter_parser(description: str,
                     raw_dir_help: str) -> argparse.ArgumentParser:
    """The arguments every converter takes: ``RAW_DIR OUT_DIR [--nproc N]
    [--short-side S]``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('raw_dir', metavar='RAW_DIR', help=raw_dir_help)
    parser.add_argument('out_dir', metavar='OUT_DIR', help='output folder')
    parser.add_argument(
        '--nproc', type=int, default=1, help='number of worker processes')
    parser.add_argument(
        '--short-side',
        type=int,
        default=256,
        help='resize frames so the shorter side has this many pixels '
        '(0 keeps the original size)')
    return parser


def require_files(raw_dir: str, names: Sequence[str], what: str,
                  hint: str) -> List[str]:
    """Returns ``raw_dir/name`` for each name.

    Raises:
        SystemExit: A file is missing; the message names it, all the files
            RAW_DIR must hold, and ``hint`` (where they come from).
    """
    paths = [osp.join(raw_dir, name) for name in names]
    for path in paths:
        if not osp.isfile(path):
            raise SystemExit(f'Missing {what}: {path}. RAW_DIR must hold '
                             f'{", ".join(names)} ({hint}).')
    return paths


def locate_videos(video_ids: Sequence[str], raw_dir: str,
                  subdirs: Sequence[str]) -> Dict[str, str]:
    """Finds ``<video_id><ext>`` (``ext`` in :data:`VIDEO_EXTENSIONS`, in
    that order) in ``raw_dir/<subdir>`` (in the order given) or directly
    in ``raw_dir``.

    A video found nowhere keeps the ``.mp4`` path in the first existing
    folder, so its conversion fails as "not found" and is listed with the
    unreadable videos.

    Returns:
        ``{video_id: path}`` in the order of ``video_ids``.
    """
    folders = [osp.join(raw_dir, d) for d in subdirs] + [raw_dir]
    folders = [f for f in folders if osp.isdir(f)] or [raw_dir]
    paths = {}
    for video_id in video_ids:
        # Ids may start with '-': they only ever appear inside joined paths.
        candidates = [
            osp.join(f, video_id + ext) for f in folders
            for ext in VIDEO_EXTENSIONS
        ]
        paths[video_id] = next(
            (p for p in candidates if osp.isfile(p)), candidates[0])
    return paths


def _write_failed_list(summary: ConversionSummary, out_dir: str) -> None:
    """Writes ``id<TAB>reason`` per failed video, or removes a stale list."""
    path = osp.join(out_dir, FAILED_LIST)
    if not summary.failed:
        if osp.exists(path):
            os.remove(path)
        return
    with open(path, 'w', encoding='utf-8') as f:
        for video_id, reason in summary.failed:
            # One line per video, whatever FFmpeg put in the message.
            reason = reason.replace('\t', ' ').replace('\n', ' ')
            f.write(f'{video_id}\t{reason}\n')


def _write_mismatch_list(summary: ConversionSummary, out_dir: str) -> int:
    """Writes ``mismatched_media.txt``: this run's mismatched videos plus
    the entries of a previous run for videos not converted again (resume).

    Returns:
        The number of videos listed.
    """
    path = osp.join(out_dir, MISMATCH_LIST)
    entries = {}
    if osp.isfile(path):
        with open(path, encoding='utf-8') as f:
            for line in f:
                if line.strip() and not line.startswith('#'):
                    entries[line.split('\t', 1)[0]] = line.rstrip('\n')
    for video_id in summary.converted + [vid for vid, _ in summary.failed]:
        entries.pop(video_id, None)
    for video_id, result in summary.mismatched:
        entries[video_id] = (f'{video_id}\t{result.video_seconds:.2f}\t'
                             f'{result.num_frames}\t'
                             f'{result.audio_seconds:.2f}')
    if not entries:
        if osp.exists(path):
            os.remove(path)
        return 0
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join([MISMATCH_HEADER, *entries.values()]) + '\n')
    return len(entries)


def convert_release(annotation_files: Sequence[str],
                    video_paths: Dict[str, str],
                    out_dir: str,
                    max_seconds: int,
                    short_side: int = 256,
                    nproc: int = 1,
                    desc: str = 'videos') -> ConversionSummary:
    """Copies the annotation files and converts the videos into ``out_dir``
    (see the module docstring); prints a summary with every failure and the
    mismatched videos.

    Args:
        annotation_files: Files copied to ``out_dir`` unchanged.
        video_paths: ``{video_id: video file}``, e.g. from
            :func:`locate_videos`.
        out_dir: Output root.
        max_seconds: Seconds of frames and audio kept per video.
        short_side: Frame resize argument of
            :func:`~.conversion.convert_video`.
        nproc: Worker processes.
        desc: Label of the progress bar.

    Returns:
        Which videos were converted, skipped (already done) or failed.
    """
    os.makedirs(out_dir, exist_ok=True)
    for path in annotation_files:
        shutil.copyfile(path, osp.join(out_dir, osp.basename(path)))
    jobs = [
        ConversionJob(
            video_id=video_id,
            video_path=video_path,
            frame_dir=osp.join(out_dir, 'frames', video_id),
            wav_path=osp.join(out_dir, 'audio', f'{video_id}.wav'),
            max_seconds=max_seconds,
            sample_rate=SAMPLE_RATE,
            short_side=short_side)
        for video_id, video_path in video_paths.items()
    ]
    summary = convert_many(jobs, nproc=nproc, desc=desc)
    _write_failed_list(summary, out_dir)
    num_mismatched = _write_mismatch_list(summary, out_dir)
    print(summary.format())
    if summary.failed:
        print('Failed ids and reasons written to '
              f'{osp.join(out_dir, FAILED_LIST)}')
    if num_mismatched:
        print(f'{num_mismatched} video(s) whose frames or audio cover less '
              'than the video (lengths in seconds) are listed in '
              f'{osp.join(out_dir, MISMATCH_LIST)}')
    return summary
