"""Converts the raw AVE release into the layout molt's AVEDataset reads.

Example::

    python tools/dataset_converters/ave.py data/AVE_Dataset data/ave --nproc 8

Output::

    OUT_DIR/Annotations.txt, trainSet.txt, valSet.txt, testSet.txt  (copied)
    OUT_DIR/frames/<video_id>/00.jpg ... 09.jpg   (1 fps, short side 256)
    OUT_DIR/audio/<video_id>.wav                  (32 kHz mono, 16-bit)
    OUT_DIR/unreadable_videos.txt                 (only if some videos failed)
    OUT_DIR/mismatched_media.txt                  (only if some frames or
                                                   audio end early)

Videos are ``<video_id>.mp4`` (the release), ``.mkv`` or ``.webm``. The
annotation rows are checked as AVEDataset reads them (the release's row with
an empty event interval is noted, a malformed row stops the run naming
``<file>:<line>``). Re-running the command resumes: finished videos are
skipped.
"""
import argparse
from typing import List, Optional, Sequence

from molt.datasets import AnnotationError
from molt.datasets.ave import read_ave_rows
from molt.datasets.media import (FAILED_LIST, SAMPLE_RATE, convert_release,
                                 converter_parser, locate_videos,
                                 require_files)

ANNOTATION_FILES = ('Annotations.txt', 'trainSet.txt', 'valSet.txt',
                    'testSet.txt')
MAX_SECONDS = 10


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parses the command line."""
    return converter_parser(
        'Convert the raw AVE release (Annotations.txt, trainSet.txt, '
        'valSet.txt, testSet.txt and the .mp4/.mkv/.webm videos, directly in '
        'RAW_DIR or in RAW_DIR/AVE/) into 1 fps JPEG frames and '
        f'{SAMPLE_RATE // 1000} kHz mono wavs of the first {MAX_SECONDS} s '
        'of each video. Re-run to resume; videos that cannot be decoded '
        f'are listed in OUT_DIR/{FAILED_LIST}.',
        'folder holding Annotations.txt (AVE_Dataset/ in the official '
        'zip)').parse_args(argv)


def read_video_ids(paths: Sequence[str]) -> List[str]:
    """Reads the unique video ids of the annotation files, in file order.

    Rows are read exactly as :class:`~molt.datasets.AVEDataset` reads them
    (:func:`~molt.datasets.ave.read_ave_rows`: header, blank lines and a
    byte-order mark skipped, irregular rows the official code accepts
    printed once). An id may appear in several rows (and files) but is
    returned once.

    Raises:
        SystemExit: A row no reading makes sense of; the message names
            ``<file>:<line>``.
    """
    video_ids = {}  # a dict keeps first-seen order
    for path in paths:
        try:
            rows, notes = read_ave_rows(path, num_segments=MAX_SECONDS)
        except AnnotationError as error:
            raise SystemExit(
                f'{error} Is this the original AVE file?') from None
        for note in notes:
            print(f'Note: {note}')
        video_ids.update(dict.fromkeys(row.video_id for row in rows))
    return list(video_ids)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Runs the conversion; see ``--help``."""
    args = parse_args(argv)
    annotation_files = require_files(
        args.raw_dir, ANNOTATION_FILES, 'AVE annotation file',
        'the AVE_Dataset/ folder of the official release')
    video_ids = read_video_ids(annotation_files)
    convert_release(
        annotation_files,
        locate_videos(video_ids, args.raw_dir, ('AVE', )),
        args.out_dir,
        MAX_SECONDS,
        short_side=args.short_side,
        nproc=args.nproc,
        desc='AVE videos')


if __name__ == '__main__':
    main()
