"""Config handling shared by the command-line tools."""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction

__all__ = ['load_config', 'add_runner_arguments']


def add_runner_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds ``--work-dir``, ``--cfg-options``, ``--launcher`` and
    ``--local-rank``, the options every runner tool shares."""
    parser.add_argument(
        '--work-dir',
        help='where logs and checkpoints go (default: '
        './work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, e.g. '
        'train_dataloader.dataset.data_root=data/ave')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher for distributed runs')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def _export_local_rank(args: argparse.Namespace) -> None:
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))


def load_config(args: argparse.Namespace) -> Config:
    """Reads ``args.config`` and applies the options of
    :func:`add_runner_arguments`.

    The work dir is ``--work-dir``, else the config's, else
    ``./work_dirs/<config name>``.
    """
    _export_local_rank(args)
    path, cfg_options = args.config, args.cfg_options
    work_dir, launcher = args.work_dir, args.launcher
    if not osp.isfile(path):
        raise FileNotFoundError(f'Config file not found: {path}')
    cfg = Config.fromfile(path)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    return cfg
