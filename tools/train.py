"""Trains a model from a config (mmengine Runner; molt's MoltRunner).

Example::

    python tools/train.py configs/molt/ave_swin_htsat.py
    python tools/train.py CONFIG --resume              # latest in work dir
    python tools/train.py CONFIG --resume PATH --amp

SIGTERM or Ctrl-C saves a resumable checkpoint at the next iteration
boundary and exits with 128 + the signal number (143, 130); ``--resume``
continues exactly where it stopped.
"""
import argparse
import sys

from mmengine.config import Config

from molt.engine.loops import TrainingInterrupted
from molt.utils import (add_runner_arguments, load_config,
                        register_all_modules)
from molt.utils.config import build_runner
from molt.utils.tool_exit import run_tool
from molt.utils.dataset_meta import fill_head_for_training
from molt.utils.run_report import print_data_issues


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a molt model.')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from PATH, or from the latest checkpoint in the work '
        'dir when no PATH is given')
    parser.add_argument(
        '--amp', action='store_true',
        help='bf16 autocast (CPU or GPU; no loss scaling needed)')
    add_runner_arguments(parser)
    return parser.parse_args(argv)


def build_config(args) -> Config:
    """The config with the command line applied."""
    cfg = load_config(args)
    if args.amp:
        cfg.optim_wrapper.type = 'BF16OptimWrapper'
        cfg.optim_wrapper.pop('loss_scale', None)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def make_runner(args):
    """The runner of ``args``, ready to train."""
    register_all_modules()
    cfg = build_config(args)
    # Head sizes left None (e.g. AVQA's vocabulary sizes) come from the
    # training data.
    fill_head_for_training(cfg)
    return build_runner(cfg)


def main(argv=None):
    args = parse_args(argv)
    runner = make_runner(args)
    try:
        runner.train()
    except TrainingInterrupted as stop:
        print_data_issues()
        print(f'{stop} Continue with: python tools/train.py {args.config} '
              f'--work-dir {runner.work_dir} --resume', file=sys.stderr)
        raise SystemExit(stop.exit_code) from stop
    print_data_issues()
    return runner


if __name__ == '__main__':
    run_tool(main)
