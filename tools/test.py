"""Evaluates a checkpoint on the config's test split (mmengine Runner).

Example::

    python tools/test.py configs/molt/ave_swin_htsat.py work_dirs/x/best.pth
    python tools/test.py CONFIG CKPT --out results.pkl
    python tools/test.py CONFIG CKPT --show-dir vis/   # one PNG per video

The checkpoint must fit the config's model (docs/en/checkpoints.md):
otherwise the missing, unexpected and mis-shaped keys, or the frozen
backbones' fingerprints, are listed and nothing is scored; ``--non-strict``
loads what fits, with a warning.
"""
import argparse

from mmengine.config import Config

from molt.utils import (add_runner_arguments, load_config,
                        register_all_modules)
from molt.utils.config import build_runner
from molt.utils.tool_exit import run_tool
from molt.utils.dataset_meta import apply_checkpoint_dataset_meta
from molt.utils.run_report import print_data_issues


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a molt model.')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='dump the per-sample predictions to this pickle file')
    parser.add_argument(
        '--show-dir',
        help='draw the predictions of every test sample into this folder '
        "(needs the config's default_hooks.visualization)")
    add_runner_arguments(parser)
    return parser.parse_args(argv)


def build_config(args) -> Config:
    """The config with the command line applied."""
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.out is not None:
        evaluators = cfg.test_evaluator
        if not isinstance(evaluators, list):
            evaluators = [evaluators]
        cfg.test_evaluator = evaluators + [
            dict(type='DumpResults', out_file_path=args.out)
        ]
    if args.show_dir is not None:
        hook = cfg.get('default_hooks', {}).get('visualization')
        if hook is None:
            raise ValueError(
                f'--show-dir: {args.config} has no '
                'default_hooks.visualization (the AVS configs have one).')
        hook.update(draw=True, show_dir=args.show_dir)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    cfg = build_config(args)
    # What the checkpoint learned from its training split (e.g. AVQA's
    # vocabulary) overrides what the config's files would give.
    apply_checkpoint_dataset_meta(cfg, args.checkpoint)
    runner = build_runner(cfg)
    metrics = runner.test()
    print_data_issues()
    print('Test results: ' +
          ', '.join(f'{k}: {v:.2f}' if isinstance(v, float) else f'{k}: {v}'
                    for k, v in metrics.items()))
    return metrics


if __name__ == '__main__':
    run_tool(main)
