"""Converts the raw MUSIC-AVQA release into the layout MusicAVQADataset
reads.

Example::

    python tools/dataset_converters/music_avqa.py data/MUSIC-AVQA \
        data/music_avqa --nproc 8

RAW_DIR holds ``avqa-train.json``, ``avqa-val.json`` and ``avqa-test.json``
(``data/json/`` of the official repository) and the ``<video_id>.mp4``
videos (``.mkv``/``.webm`` too), directly or in one of the sub-folders
``videos/``, ``MUSIC-AVQA-videos-Real/`` and
``MUSIC-AVQA-videos-Synthetic/`` (the real and synthetic video downloads
unpacked side by side).

Output::

    OUT_DIR/avqa-train.json, avqa-val.json, avqa-test.json  (copied)
    OUT_DIR/frames/<video_id>/00.jpg ... 59.jpg   (1 fps, short side 256)
    OUT_DIR/audio/<video_id>.wav                  (32 kHz mono, 16-bit)
    OUT_DIR/unreadable_videos.txt                 (only if some videos failed)
    OUT_DIR/mismatched_media.txt                  (only if some frames or
                                                   audio end early)

Videos shorter than 60 s keep their real length (the dataset repeats the
last second and reports it). Re-running the command resumes: finished
videos are skipped.
"""
import argparse
from typing import List, Optional, Sequence

from molt.datasets import AnnotationError
from molt.datasets.media import (FAILED_LIST, SAMPLE_RATE, convert_release,
                                 converter_parser, locate_videos,
                                 require_files)
from molt.datasets.music_avqa import read_json_entries

ANNOTATION_FILES = ('avqa-train.json', 'avqa-val.json', 'avqa-test.json')
VIDEO_SUBDIRS = ('videos', 'MUSIC-AVQA-videos-Real',
                 'MUSIC-AVQA-videos-Synthetic')
MAX_SECONDS = 60


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parses the command line."""
    return converter_parser(
        'Convert the raw MUSIC-AVQA release (avqa-train.json, '
        'avqa-val.json, avqa-test.json and the .mp4/.mkv/.webm videos, '
        f'directly in RAW_DIR or in RAW_DIR/{{{",".join(VIDEO_SUBDIRS)}}}/) '
        'into 1 fps '
        f'JPEG frames and {SAMPLE_RATE // 1000} kHz mono wavs of the first '
        f'{MAX_SECONDS} s of each video. Re-run to resume; videos that '
        f'cannot be decoded are listed in OUT_DIR/{FAILED_LIST}.',
        'folder holding avqa-train.json, avqa-val.json and avqa-test.json'
    ).parse_args(argv)


def read_video_ids(paths: Sequence[str]) -> List[str]:
    """The unique ``video_id`` values of the question files, in file order
    (a video has several questions).

    Only ``video_id`` is read here; MusicAVQADataset checks the rest.

    Raises:
        SystemExit: A file is not a JSON list, or an entry has no
            ``video_id``; the message names the file and the entry.
    """
    video_ids = {}  # a dict keeps first-seen order
    for path in paths:
        try:
            entries = read_json_entries(path)
        except AnnotationError as error:
            raise SystemExit(f'{error} Is this the original MUSIC-AVQA '
                             'file?') from None
        for index, entry in enumerate(entries):
            video_id = entry.get('video_id') if isinstance(entry,
                                                           dict) else None
            if video_id in (None, ''):
                raise SystemExit(
                    f'{path}, entry {index}: no "video_id" in {entry!r}. Is '
                    'this the original MUSIC-AVQA file?')
            video_ids[str(video_id)] = None
    return list(video_ids)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Runs the conversion; see ``--help``."""
    args = parse_args(argv)
    annotation_files = require_files(
        args.raw_dir, ANNOTATION_FILES, 'MUSIC-AVQA question file',
        'data/json/ of the official MUSIC-AVQA repository')
    video_ids = read_video_ids(annotation_files)
    convert_release(
        annotation_files,
        locate_videos(video_ids, args.raw_dir, VIDEO_SUBDIRS),
        args.out_dir,
        MAX_SECONDS,
        short_side=args.short_side,
        nproc=args.nproc,
        desc='MUSIC-AVQA videos')


if __name__ == '__main__':
    main()
