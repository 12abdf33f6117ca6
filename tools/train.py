"""Trains a model from a config (mmengine Runner).

Example::

    python tools/train.py configs/molt/ave_swin_htsat.py
    python tools/train.py CONFIG --resume              # latest in work dir
    python tools/train.py CONFIG --resume PATH --amp
"""
import argparse

from mmengine.config import Config
from mmengine.runner import Runner

from molt.utils import (add_runner_arguments, load_config,
                        register_all_modules, trust_checkpoint,
                        trust_directory)
from molt.utils.dataset_meta import fill_head_for_training


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


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    cfg = build_config(args)
    # The run's own checkpoints and files the user names may be fully
    # unpickled (see molt/utils/checkpoint.py).
    trust_directory(cfg.work_dir)
    if cfg.get('load_from'):
        trust_checkpoint(cfg.load_from)
    # Head sizes left None (e.g. AVQA's vocabulary sizes) come from the
    # training data.
    fill_head_for_training(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


if __name__ == '__main__':
    main()
