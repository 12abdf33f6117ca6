"""Config handling shared by the command-line tools."""
import argparse
import difflib
import inspect
import os
import os.path as osp
from typing import Iterable

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from .config_arguments import (UnknownConfigKeyError,
                               check_constructor_arguments)
from .dist import setup_distributed
from .safe_load import UNSAFE_LOAD_FLAG, allow_unsafe_load

__all__ = ['load_config', 'add_runner_arguments', 'add_unsafe_load_argument',
           'check_top_level_keys',
           'build_runner', 'UnknownConfigKeyError',
           'RUNNER_KEYS']

# Top-level keys something reads: the Runner's arguments, what mmengine's
# runner and tools read from the config besides, and molt's own.
RUNNER_KEYS = frozenset(
    set(inspect.signature(Runner.__init__).parameters) - {'self', 'cfg'}
    | {
        'runner_type', 'model_wrapper_cfg', 'compile',
        'activation_checkpointing', 'efficient_conv_bn_eval',
        'custom_imports', 'tta_model', 'tta_pipeline', 'load_strict'
    })
# How close a config's own variable may come to a runner key before it
# counts as a misspelling of it ('pipeline' vs 'tta_pipeline' is 0.80).
_TYPO_SIMILARITY = 0.85


def _nearest(key: str, candidates: Iterable[str], cutoff: float = 0.0):
    matches = difflib.get_close_matches(key, sorted(candidates), 1, cutoff)
    return matches[0] if matches else None


def check_top_level_keys(cfg: Config, added: Iterable[str] = (),
                         source: str = 'the config') -> None:
    """Refuses top-level keys that nothing would read.

    OpenMMLab configs keep their own variables at the top level
    (``data_root``, ``pipeline``, ...), so a key of the config files is
    refused only when it is a near miss of a runner key (e.g.
    ``optim_wraper``); a key that ``--cfg-options`` adds is refused unless
    it is a runner key.

    Args:
        cfg: The config, options merged.
        added: Top-level keys that ``--cfg-options`` introduced (not in the
            files).
        source: The config's path, for messages.

    Raises:
        UnknownConfigKeyError: Naming the key and the nearest known one.
    """
    added = set(added)
    unknown = sorted(added - RUNNER_KEYS)
    if unknown:
        nearest = _nearest(unknown[0], RUNNER_KEYS | (set(cfg.keys()) - added))
        raise UnknownConfigKeyError(
            f'--cfg-options sets the top-level key {unknown[0]!r}, which '
            f'neither {source} nor the runner knows: nothing would read it. '
            f'Did you mean {nearest!r}?')
    for key in sorted(set(cfg.keys()) - RUNNER_KEYS - added):
        nearest = _nearest(key, RUNNER_KEYS, _TYPO_SIMILARITY)
        if nearest is not None:
            raise UnknownConfigKeyError(
                f'{source} has the top-level key {key!r}, which nothing '
                f'reads: did you mean {nearest!r}? (A config variable of '
                'your own needs a name that is not this close to a runner '
                'key.)')


def add_unsafe_load_argument(parser: argparse.ArgumentParser) -> None:
    """Adds ``--unsafe-load``; a tool that has it calls
    ``allow_unsafe_load(args.unsafe_load)`` (:func:`load_config` does)."""
    parser.add_argument(
        UNSAFE_LOAD_FLAG, action='store_true',
        help='UNSAFE: fully unpickle checkpoints that hold Python objects '
        'besides tensors and numpy arrays (e.g. from another codebase). A '
        'full unpickle runs any code the file carries: use it only for '
        'files you trust.')


def add_runner_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds ``--work-dir``, ``--cfg-options``, ``--non-strict``,
    ``--unsafe-load``, ``--launcher`` and ``--local-rank``, the options
    every runner tool shares."""
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
    parser.add_argument(
        '--non-strict', action='store_true',
        help='load a checkpoint (load_from, tools/test.py) that does not fit '
        'the model as far as it fits, with a warning listing the rest '
        '(load_strict=False)')
    add_unsafe_load_argument(parser)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def _export_local_rank(args: argparse.Namespace) -> None:
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))


def load_config(args: argparse.Namespace) -> Config:
    """Reads ``args.config`` and applies the options of
    :func:`add_runner_arguments`.

    The work dir is ``--work-dir``, else the config's, else
    ``./work_dirs/<config name>``. Unknown top-level keys are refused
    (:func:`check_top_level_keys`), and so are keys inside ``model`` that
    their classes do not take
    (:func:`~molt.utils.config_arguments.check_constructor_arguments`).
    ``--unsafe-load`` takes effect
    (:func:`~molt.utils.safe_load.allow_unsafe_load`). The process-group
    backend is chosen
    and a CPU multi-process run is prepared
    (:func:`~molt.utils.dist.setup_distributed`).
    """
    _export_local_rank(args)
    allow_unsafe_load(getattr(args, 'unsafe_load', False))
    path, cfg_options = args.config, args.cfg_options
    work_dir, launcher = args.work_dir, args.launcher
    if not osp.isfile(path):
        raise FileNotFoundError(f'Config file not found: {path}')
    cfg = Config.fromfile(path)
    cfg.launcher = launcher
    added = set()
    if cfg_options is not None:
        added = {key.split('.')[0] for key in cfg_options} - set(cfg.keys())
        cfg.merge_from_dict(cfg_options)
    check_top_level_keys(cfg, added, path)
    check_constructor_arguments(cfg, path)
    if getattr(args, 'non_strict', False):
        cfg.load_strict = False
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    setup_distributed(cfg, cfg_options)
    return cfg


def build_runner(cfg: Config):
    """The runner the config asks for (``runner_type``, molt's
    ``MoltRunner`` in the default runtime), else mmengine's ``Runner``."""
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    from molt.registry import RUNNERS
    return RUNNERS.build(cfg)
