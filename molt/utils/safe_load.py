"""Reading checkpoint files without running code from them.

A ``.pth`` file is a pickle, and a pickle can call any function while it
is read (a ``__reduce__`` payload runs before any key is checked). molt
therefore reads every checkpoint with ``torch.load(weights_only=True)``:
tensors, containers, strings and numbers, plus an allow-list of exactly
the types molt's own checkpoints hold (:data:`SAFE_GLOBALS`: numpy arrays,
dtypes and scalars, for the random-number states and the message hub's
histories). Nothing else is constructed, and nothing is called.

A file that needs more (a checkpoint of another codebase, one of an older
molt whose message hub held bound methods) is refused with an
:class:`UnsafeCheckpointError` that names what the file wants to build
and the opt-in: ``--unsafe-load`` on the command line, or
:func:`allow_unsafe_load` from Python. That opt-in fully unpickles the
file, which runs whatever code it carries: use it only for files whose
origin you trust.
"""
import contextlib
import logging
import pickle
from typing import Callable, Iterator, List, Optional, Union

import numpy as np
import torch
from mmengine.logging import print_log

__all__ = ['SAFE_GLOBALS', 'UnsafeCheckpointError', 'allow_unsafe_load',
           'unsafe_load_allowed', 'safe_torch_load', 'UNSAFE_LOAD_FLAG']

#: The command-line option that allows a full unpickle.
UNSAFE_LOAD_FLAG = '--unsafe-load'


def _numpy_globals() -> list:
    """numpy's pickling entry points, under the module names numpy 1.x
    (``numpy.core``) and 2.x (``numpy._core``) write into pickles."""
    core = getattr(np, '_core', None) or np.core
    entries = [np.ndarray, np.dtype]
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        entries += [(core.multiarray._reconstruct, f'{module}._reconstruct'),
                    (core.multiarray.scalar, f'{module}.scalar')]
    # numpy >= 1.25 pickles some dtypes by their class.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        entries += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    return entries


#: What ``weights_only=True`` may build besides tensors and containers:
#: numpy arrays, dtypes and scalars. No callable with side effects (no
#: ``getattr``, no class with a custom ``__setstate__`` of its own).
SAFE_GLOBALS: List = _numpy_globals()

_UNSAFE_ALLOWED = False


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs a full unpickle (which can run code), and nobody
    opted in with ``--unsafe-load``."""


def allow_unsafe_load(allowed: bool = True) -> None:
    """Allows (or forbids again) full unpickling for this process.

    The command-line tools call it for ``--unsafe-load``. A full unpickle
    runs any code the file carries: allow it only for files you trust.
    """
    global _UNSAFE_ALLOWED
    _UNSAFE_ALLOWED = bool(allowed)


def unsafe_load_allowed() -> bool:
    """Whether :func:`allow_unsafe_load` is in force."""
    return _UNSAFE_ALLOWED


@contextlib.contextmanager
def _allow_safe_globals() -> Iterator[None]:
    with torch.serialization.safe_globals(SAFE_GLOBALS):
        yield


def _unsafe_globals(path: str) -> List[str]:
    """What the file would construct beyond :data:`SAFE_GLOBALS`."""
    try:
        with _allow_safe_globals():
            wanted = torch.serialization.get_unsafe_globals_in_checkpoint(
                path)
    except Exception:  # noqa: B902 (a listing only improves the message)
        return []
    allowed = {f'{obj.__module__}.{obj.__qualname__}'
               for obj in SAFE_GLOBALS if not isinstance(obj, tuple)}
    allowed |= {name for obj in SAFE_GLOBALS if isinstance(obj, tuple)
                for name in obj[1:]}
    return [name for name in wanted if name not in allowed]


def _refusal(path: str, error: pickle.UnpicklingError) -> \
        UnsafeCheckpointError:
    wanted = _unsafe_globals(path)
    what = (f'it would construct or call {", ".join(wanted)}' if wanted else
            f'torch refused it: {str(error).splitlines()[0]}')
    return UnsafeCheckpointError(
        f'{path} holds Python objects besides tensors, numbers, strings and '
        f'numpy arrays ({what}). Reading it needs a full unpickle, which '
        'runs any code the file carries, so molt refuses it by default. If '
        'you trust where the file came from, rerun with '
        f'{UNSAFE_LOAD_FLAG} (Python: '
        'molt.utils.allow_unsafe_load()); better, load it once that way and '
        'save just its state dict (torch.save(checkpoint["state_dict"], '
        'new_path)).')


def safe_torch_load(path: str,
                    map_location: Optional[Union[str, Callable]] = None):
    """``torch.load`` that cannot run code unless the user opted in.

    Args:
        path: A local checkpoint file.
        map_location: Same as :func:`torch.load`.

    Returns:
        What the file holds.

    Raises:
        UnsafeCheckpointError: The file needs more than
            :data:`SAFE_GLOBALS` and :func:`allow_unsafe_load` is not in
            force. Nothing from the file has been constructed or called.
    """
    try:
        with _allow_safe_globals():
            return torch.load(
                path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if not _UNSAFE_ALLOWED:
            raise _refusal(path, error) from None
    print_log(
        f'{UNSAFE_LOAD_FLAG}: fully unpickling {path}, which runs any code '
        'it carries.',
        logger='current', level=logging.WARNING)
    return torch.load(path, map_location=map_location, weights_only=False)
