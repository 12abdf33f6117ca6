"""Converts the raw AVE release into the layout molt's AVEDataset reads.

Example::

    python tools/dataset_converters/ave.py data/AVE_Dataset data/ave --nproc 8

Output::

    OUT_DIR/Annotations.txt, trainSet.txt, valSet.txt, testSet.txt  (copied)
    OUT_DIR/frames/<video_id>/00.jpg ... 09.jpg   (1 fps, short side 256)
    OUT_DIR/audio/<video_id>.wav                  (32 kHz mono, 16-bit)
    OUT_DIR/unreadable_videos.txt                 (only if some videos failed)

Re-running the command resumes: finished videos are skipped.
"""
import argparse
import os
import os.path as osp
import shutil
from typing import List, Optional, Sequence

from molt.datasets.media import ConversionJob, ConversionSummary, convert_many

ANNOTATION_FILES = ('Annotations.txt', 'trainSet.txt', 'valSet.txt',
                    'testSet.txt')
HEADER_PREFIX = 'Category&'
MAX_SECONDS = 10
SAMPLE_RATE = 32000
FAILED_LIST = 'unreadable_videos.txt'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parses the command line."""
    parser = argparse.ArgumentParser(
        description='Convert the raw AVE release (Annotations.txt, '
        'trainSet.txt, valSet.txt, testSet.txt and the .mp4 videos, '
        'directly in RAW_DIR or in RAW_DIR/AVE/) into 1 fps JPEG frames '
        f'and {SAMPLE_RATE // 1000} kHz mono wavs of the first '
        f'{MAX_SECONDS} s of each video. Re-run to resume; videos that '
        f'cannot be decoded are listed in OUT_DIR/{FAILED_LIST}.')
    parser.add_argument(
        'raw_dir',
        metavar='RAW_DIR',
        help='folder holding Annotations.txt (AVE_Dataset/ in the '
        'official zip)')
    parser.add_argument('out_dir', metavar='OUT_DIR', help='output folder')
    parser.add_argument(
        '--nproc', type=int, default=1, help='number of worker processes')
    parser.add_argument(
        '--short-side',
        type=int,
        default=256,
        help='resize frames so the shorter side has this many pixels '
        '(0 keeps the original size)')
    return parser.parse_args(argv)


def find_annotation_files(raw_dir: str) -> List[str]:
    """Returns the paths of the four annotation files.

    Raises:
        SystemExit: One of them is missing.
    """
    paths = [osp.join(raw_dir, name) for name in ANNOTATION_FILES]
    for path in paths:
        if not osp.isfile(path):
            raise SystemExit(
                f'Missing AVE annotation file: {path}. RAW_DIR must hold '
                f'{", ".join(ANNOTATION_FILES)} (the AVE_Dataset/ folder of '
                'the official release).')
    return paths


def read_video_ids(paths: Sequence[str]) -> List[str]:
    """Reads the unique video ids of the annotation files, in file order.

    Rows look like ``Church bell&RUhOCu3LNXM&good&0&10``; the header of
    ``Annotations.txt`` and blank lines are skipped. An id may appear in
    several rows (and files) but is returned once.

    Raises:
        SystemExit: A row does not have the five ``&``-separated fields.
    """
    video_ids = {}  # a dict keeps first-seen order
    for path in paths:
        with open(path, encoding='utf-8-sig') as f:
            for line_no, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith(HEADER_PREFIX):
                    continue
                # Split from the right: only the category is free text.
                fields = line.rsplit('&', 4)
                if len(fields) != 5 or not fields[1]:
                    raise SystemExit(
                        f'{path}, line {line_no}: expected '
                        f'Category&VideoID&Quality&StartTime&EndTime, '
                        f'got {line!r}. Is this the original AVE file?')
                video_ids[fields[1]] = None
    return list(video_ids)


def build_jobs(video_ids: Sequence[str], raw_dir: str, out_dir: str,
               short_side: int) -> List[ConversionJob]:
    """One conversion job per video id.

    Videos are looked up in ``raw_dir/AVE/`` when that folder exists (the
    official zip's layout), else directly in ``raw_dir``.
    """
    video_dir = osp.join(raw_dir, 'AVE')
    if not osp.isdir(video_dir):
        video_dir = raw_dir
    # Ids may start with '-': they only ever appear inside joined paths.
    return [
        ConversionJob(
            video_id=video_id,
            video_path=osp.join(video_dir, f'{video_id}.mp4'),
            frame_dir=osp.join(out_dir, 'frames', video_id),
            wav_path=osp.join(out_dir, 'audio', f'{video_id}.wav'),
            max_seconds=MAX_SECONDS,
            sample_rate=SAMPLE_RATE,
            short_side=short_side) for video_id in video_ids
    ]


def write_failed_list(summary: ConversionSummary, out_dir: str) -> None:
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


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Runs the conversion; see ``--help``."""
    args = parse_args(argv)
    annotation_files = find_annotation_files(args.raw_dir)
    os.makedirs(args.out_dir, exist_ok=True)
    for path in annotation_files:
        shutil.copyfile(path, osp.join(args.out_dir, osp.basename(path)))

    video_ids = read_video_ids(annotation_files)
    jobs = build_jobs(video_ids, args.raw_dir, args.out_dir, args.short_side)
    summary = convert_many(jobs, nproc=args.nproc, desc='AVE videos')
    write_failed_list(summary, args.out_dir)
    print(summary.format())
    if summary.failed:
        print(f'Failed ids and reasons written to '
              f'{osp.join(args.out_dir, FAILED_LIST)}')


if __name__ == '__main__':
    main()
