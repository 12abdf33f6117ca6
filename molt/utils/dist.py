"""Multi-process set-up that mmengine leaves to the user.

mmengine's Runner initialises the process group and wraps the model in
DDP itself, but assumes GPUs: its ``init_dist`` pins a CUDA device before
``init_process_group`` and its DDP wrapper passes ``device_ids``, so both
fail on a machine without CUDA. :func:`setup_distributed` (called by
:func:`molt.utils.load_config`, before the Runner is built) makes the same
launch commands work on CPUs with gloo and leaves GPU runs to mmengine.
"""
import datetime
import os
import subprocess
from typing import Any, Callable, Mapping, Optional, TypeVar

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.dist import (all_gather_object, broadcast_object_list,
                           get_dist_info)
from mmengine.logging import print_log

__all__ = [
    'setup_distributed', 'choose_backend', 'run_on_rank0', 'all_ranks_agree'
]

BACKEND_OPTION = 'env_cfg.dist_cfg.backend'
T = TypeVar('T')


def _sets_option(cfg_options: Optional[Mapping], dotted: str) -> bool:
    """Whether ``--cfg-options`` set ``dotted`` (directly, or inside a dict
    given for one of its parents)."""
    for key, value in (cfg_options or {}).items():
        if key == dotted:
            return True
        if dotted.startswith(key + '.') and isinstance(value, Mapping):
            if _sets_option(value, dotted[len(key) + 1:]):
                return True
    return False


def choose_backend(cfg: Config, cfg_options: Optional[Mapping] = None) -> str:
    """Sets and returns ``cfg.env_cfg.dist_cfg.backend``.

    nccl needs CUDA. Without CUDA, a config's nccl (the default runtime's
    choice) becomes gloo; a backend given on the command line
    (``--cfg-options env_cfg.dist_cfg.backend=...``) is kept as it is.

    Args:
        cfg: The config (changed in place).
        cfg_options: The parsed ``--cfg-options``.
    """
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    backend = dist_cfg.setdefault('backend', 'nccl')
    if (backend == 'nccl' and not torch.cuda.is_available()
            and not _sets_option(cfg_options, BACKEND_OPTION)):
        dist_cfg['backend'] = backend = 'gloo'
    return backend


def _export_slurm_env(port: Optional[int]) -> None:
    """torch's ``env://`` variables from SLURM's (mmengine's mapping, which
    its ``_init_dist_slurm`` only applies together with a CUDA device)."""
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
    if port is not None:
        os.environ['MASTER_PORT'] = str(port)
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        nodes = os.environ['SLURM_NODELIST']
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {nodes} | head -n1')


def _init_cpu_process_group(launcher: str, dist_cfg: dict) -> None:
    if torch_dist.is_initialized():
        return
    kwargs = {
        k: v
        for k, v in dist_cfg.items()
        if k not in ('backend', 'port', 'init_backend')
    }
    if kwargs.get('timeout') is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=kwargs['timeout'])
    if launcher == 'slurm':
        _export_slurm_env(dist_cfg.get('port'))
    elif launcher != 'pytorch':
        raise ValueError(
            f'--launcher {launcher} needs GPUs. Without CUDA, start the '
            'processes with torchrun (tools/dist_train.sh, --launcher '
            'pytorch) or srun (tools/slurm_train.sh, --launcher slurm).')
    torch_dist.init_process_group(backend=dist_cfg['backend'], **kwargs)


def setup_distributed(cfg: Config,
                      cfg_options: Optional[Mapping] = None) -> None:
    """Chooses the backend and prepares a multi-process run on CPUs.

    * The backend: see :func:`choose_backend` (gloo without CUDA).
    * Without CUDA and with a launcher (``pytorch``: torchrun; ``slurm``:
      srun), the process group is initialised here from the launcher's
      environment (the Runner then finds it initialised and skips its own
      GPU-only initialisation), and DDP gets ``device_ids=None`` through
      ``cfg.model_wrapper_cfg`` unless the config sets a wrapper itself.

    With CUDA, or with ``launcher='none'``, only the backend is set.

    Args:
        cfg: The config, with ``cfg.launcher`` set (changed in place).
        cfg_options: The parsed ``--cfg-options``.
    """
    backend = choose_backend(cfg, cfg_options)
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    _init_cpu_process_group(launcher, cfg.env_cfg.dist_cfg)
    print_log(
        f'CPU multi-process run: rank {torch_dist.get_rank()} of '
        f'{torch_dist.get_world_size()}, backend {backend}.',
        logger='current')


def run_on_rank0(fn: Callable[[], T]) -> T:
    """Runs ``fn`` on rank 0 only and returns its result on every rank.

    An exception on rank 0 is raised on every rank (with rank 0's
    message), so that no rank is left waiting at a later collective.
    """
    rank, world_size = get_dist_info()
    if world_size == 1:
        return fn()
    outcome: list = [None]
    if rank == 0:
        try:
            outcome = [('ok', fn())]
        except Exception as error:  # re-raised below, on every rank
            outcome = [('error', error)]
    broadcast_object_list(outcome, src=0)
    status, value = outcome[0]
    if status == 'error':
        if rank == 0:
            raise value
        raise RuntimeError(f'rank 0 failed: {value}') from value
    return value


def all_ranks_agree(value: Any, what: str) -> None:
    """Raises on every rank unless every rank holds the same ``value``."""
    values = all_gather_object(value)
    if any(v != values[0] for v in values):
        differing = [i for i, v in enumerate(values) if v != values[0]]
        raise RuntimeError(
            f'The processes disagree on {what}: ranks {differing} differ '
            'from rank 0. Every process must build the same model and '
            'data (same config, same checkpoint, same seed).')
