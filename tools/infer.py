"""Runs a trained molt model on your own videos (docs/en/inference.md).

Examples::

    python tools/infer.py configs/demo/ave_synthetic.py CKPT video.mp4
    python tools/infer.py configs/demo/avs_synthetic.py CKPT clips/ \\
        --out-dir outputs/avs
    python tools/infer.py configs/demo/avqa_synthetic.py CKPT a.mp4 b.mkv \\
        --question "How many instruments are sounding?"

The task follows the config: AVE (per-second events, ``timeline.png``),
AVSBench (per-frame masks, ``overlays/*.png`` and ``overlays.gif``) or
MUSIC-AVQA (the answer, ``frames.png``). Each video gets
``OUT_DIR/<video name>/result.json`` and its pictures. A video that cannot
be used fails on its own (listed at the end, exit status 1); a checkpoint
that does not fit the config stops everything at once. Paths starting with
``-`` (as AVE ids do) need ``./`` in front.
"""
import argparse
import os.path as osp

from mmengine.config import DictAction
from tqdm import tqdm

from molt.apis import AVInferencer, list_videos
from molt.apis.summary import InferenceSummary
from molt.apis.video_input import MISSING_AUDIO_POLICIES, SHORT_SIDE
from molt.utils import (CorruptCheckpointError, IncompatibleCheckpointError,
                        UnsafeCheckpointError, allow_unsafe_load)
from molt.utils.config import add_unsafe_load_argument
from molt.utils.tool_exit import run_tool

#: Errors that stop the run before any video is read.
SETUP_ERRORS = (FileNotFoundError, CorruptCheckpointError,
                UnsafeCheckpointError, IncompatibleCheckpointError,
                ValueError, KeyError)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Run a trained molt model on videos.')
    parser.add_argument('config', help='the config the model was trained '
                        'with')
    parser.add_argument('checkpoint', help='the trained checkpoint')
    parser.add_argument(
        'inputs', nargs='+', metavar='INPUT',
        help='video files (any container FFmpeg reads) or folders of them')
    parser.add_argument('--question', help='the question (AVQA configs)')
    parser.add_argument(
        '--out-dir',
        help='where results and pictures go (default: '
        'work_dirs/infer/<config name>)')
    parser.add_argument(
        '--device', help="'cpu', 'cuda', 'cuda:1', ... (default: a GPU when "
        'there is one)')
    parser.add_argument(
        '--batch-size', type=int, default=1,
        help='samples (windows, questions) per forward pass')
    parser.add_argument('--topk', type=int, default=5,
                        help='entries in each top-k list')
    parser.add_argument(
        '--window-overlap', type=int, default=0,
        help='seconds shared by consecutive windows of long AVE/AVS videos')
    parser.add_argument(
        '--missing-audio', choices=MISSING_AUDIO_POLICIES, default='error',
        help='a video without an audio stream fails (error) or is heard as '
        'silence (the result says so)')
    parser.add_argument('--max-seconds', type=int,
                        help='read at most this many seconds of each video')
    parser.add_argument(
        '--short-side', type=int, default=SHORT_SIDE,
        help='frame short side when decoding (the dataset converters\' '
        '--short-side)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries')
    add_unsafe_load_argument(parser)
    return parser.parse_args(argv)


def build_inferencer(args) -> AVInferencer:
    """The inferencer, or SystemExit naming what keeps it from starting."""
    allow_unsafe_load(args.unsafe_load)
    try:
        inferencer = AVInferencer(
            args.config,
            args.checkpoint,
            device=args.device,
            topk=args.topk,
            window_overlap=args.window_overlap,
            missing_audio=args.missing_audio,
            max_seconds=args.max_seconds,
            short_side=args.short_side,
            cfg_options=args.cfg_options)
    except SETUP_ERRORS as error:
        raise SystemExit(f'Cannot start inference: {error}') from None
    task = inferencer.task
    if task.needs_question and args.question is None:
        raise SystemExit(f'{args.config} answers questions: pass --question '
                         '"..." (e.g. "How many instruments are sounding?").')
    if args.question is not None and not task.needs_question:
        raise SystemExit(f'{args.config} is an {task.name.upper()} model, '
                         'which reads no question: drop --question.')
    return inferencer


def main(argv=None) -> InferenceSummary:
    args = parse_args(argv)
    out_dir = args.out_dir or osp.join(
        'work_dirs', 'infer', osp.splitext(osp.basename(args.config))[0])
    inferencer = build_inferencer(args)
    videos, ignored = list_videos(args.inputs)
    summary = InferenceSummary(ignored=ignored)
    for outcome in inferencer.stream(videos, args.question, args.batch_size,
                                     out_dir):
        summary.add(outcome.result)
        if not outcome.failed:
            tqdm.write(f'{outcome.result["video"]}: '
                       f'{inferencer.task.headline(outcome.result)}')
    print(summary.format(out_dir))
    if summary.failed:
        raise SystemExit(1)
    return summary


if __name__ == '__main__':
    run_tool(main)
