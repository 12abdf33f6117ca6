"""Writes a video file from a converted sample (1 fps frames and a wav), to
try the inferencer on a dataset's own sample and compare with
``tools/test.py``.

Example::

    python tools/misc/converted_to_video.py \\
        data/ave_synthetic/frames/-test0000 \\
        data/ave_synthetic/audio/-test0000.wav demo.mp4
"""
import argparse
from typing import Optional, Sequence

from molt.datasets.media import converted_to_video


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write a video from converted 1 fps frames and a wav.')
    parser.add_argument('frame_dir', help='folder of 00.jpg, 01.jpg, ...')
    parser.add_argument('wav', help='the audio')
    parser.add_argument('out', help='output video (.mp4, .mkv, ...)')
    parser.add_argument('--fps', type=int, default=4,
                        help='frame rate of the file (each second repeats '
                        'its frame)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    path = converted_to_video(args.frame_dir, args.wav, args.out, args.fps)
    print(path)
    return path


if __name__ == '__main__':
    main()
