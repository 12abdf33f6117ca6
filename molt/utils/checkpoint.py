"""Local checkpoint loading on torch >= 2.6.

torch 2.6 made ``torch.load(weights_only=True)`` the default; mmengine
0.10.7 calls ``torch.load`` without the argument, so resuming or testing
from mmengine's own checkpoints (which hold numpy arrays and message-hub
buffers) fails. molt fixes that once, here, by registering its own loader
for local paths with mmengine's :class:`CheckpointLoader`.

Policy (a checkpoint is a pickle, and unpickling arbitrary objects runs
code):

* every local file is first read with ``weights_only=True``: plain state
  dicts such as backbone weights never need more;
* a full unpickle happens only for files the user trusted explicitly:
  the run's own work directory (``tools/train.py`` trusts it), a path given
  as ``--resume PATH``/``load_from``, or the checkpoint argument of
  ``tools/test.py``. Call :func:`trust_checkpoint` or
  :func:`trust_directory` to do the same from Python.
"""
import os
import os.path as osp
import pickle
from typing import Callable, Optional, Union

import torch
from mmengine.runner.checkpoint import CheckpointLoader

__all__ = ['trust_checkpoint', 'trust_directory', 'is_trusted', 'load_from_local',
           'UntrustedCheckpointError']

_TRUSTED_FILES: set = set()
_TRUSTED_DIRS: set = set()


class UntrustedCheckpointError(RuntimeError):
    """A checkpoint needs a full unpickle but nobody vouched for it."""


def _resolve(path: Union[str, os.PathLike]) -> str:
    return osp.realpath(osp.expanduser(str(path)))


def trust_checkpoint(path: Union[str, os.PathLike]) -> None:
    """Allows a full unpickle of the checkpoint file ``path``."""
    _TRUSTED_FILES.add(_resolve(path))


def trust_directory(path: Union[str, os.PathLike]) -> None:
    """Allows a full unpickle of every file below ``path`` (a run's work
    directory, which holds the run's own checkpoints)."""
    _TRUSTED_DIRS.add(_resolve(path))


def is_trusted(filename: Union[str, os.PathLike]) -> bool:
    """Whether :func:`trust_checkpoint` covers ``filename``."""
    filename = _resolve(filename)
    if filename in _TRUSTED_FILES:
        return True
    return any(
        filename.startswith(directory + os.sep) for directory in _TRUSTED_DIRS)


def load_from_local(filename: str,
                    map_location: Optional[Union[str, Callable]] = None):
    """Loads a local checkpoint; replaces mmengine's loader for local paths.

    Args:
        filename: Path of the checkpoint file.
        map_location: Same as :func:`torch.load`.

    Returns:
        The unpickled checkpoint (usually a dict).

    Raises:
        FileNotFoundError: ``filename`` is not a file.
        UntrustedCheckpointError: The file holds more than tensors and
            containers and was not trusted with :func:`trust_checkpoint` or
            :func:`trust_directory`.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint file not found: {filename}')
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if not is_trusted(filename):
            raise UntrustedCheckpointError(
                f'{filename} holds Python objects besides tensors, so it can '
                'only be loaded by a full unpickle, which can run code. molt '
                'does that only for checkpoints of the current run and for '
                'files named explicitly (tools/train.py --resume PATH or '
                'load_from=PATH, tools/test.py CHECKPOINT). If you trust the '
                'file, pass it that way or call '
                'molt.utils.trust_checkpoint(path) first.') from error
        return torch.load(
            filename, map_location=map_location, weights_only=False)


CheckpointLoader.register_scheme(prefixes='', loader=load_from_local,
                                 force=True)
