"""Crash-safe file writes: a file appears under its name only when complete.

Each write goes to a temporary file in the same folder, is flushed to disk
and then renamed over the target (``os.replace``, atomic on POSIX and
Windows). A process killed at any instant leaves either the old file or the
new one, never a partial one; at worst a temporary file remains, which
:func:`remove_stale_temporaries` clears.
"""
import contextlib
import glob
import os
import os.path as osp
import tempfile
from typing import Callable, List, Union

import torch

__all__ = ['atomic_save', 'atomic_write_text', 'remove_stale_temporaries',
           'TEMP_SUFFIX']

TEMP_SUFFIX = '.molt-tmp'


def _file_mode() -> int:
    """The mode a plain ``open(path, 'w')`` would give (umask applied);
    ``mkstemp`` itself creates files readable by their owner only."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_directory(directory: str) -> None:
    """Makes a rename in ``directory`` durable (POSIX; a no-op elsewhere)."""
    if not hasattr(os, 'O_DIRECTORY'):
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Union[str, os.PathLike],
                  write: Callable[[object], None], mode: str) -> None:
    path = osp.abspath(os.fspath(path))
    directory = osp.dirname(path)
    fd, temporary = tempfile.mkstemp(
        dir=directory, prefix=f'.{osp.basename(path)}.', suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, _file_mode())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    _fsync_directory(directory)


def atomic_save(obj: object, path: Union[str, os.PathLike]) -> None:
    """``torch.save(obj, path)``, atomically (see the module docstring)."""
    _atomic_write(path, lambda f: torch.save(obj, f), 'wb')


def atomic_write_text(path: Union[str, os.PathLike], text: str) -> None:
    """Writes ``text`` to ``path``, atomically."""
    _atomic_write(path, lambda f: f.write(text), 'w')


def remove_stale_temporaries(directory: str) -> List[str]:
    """Removes the temporary files that killed writes left in ``directory``.

    Call it only when no other process writes there (e.g. when a run
    starts in its own work dir).

    Returns:
        The removed paths.
    """
    stale = sorted(glob.glob(osp.join(glob.escape(directory),
                                      f'.*{TEMP_SUFFIX}')))
    for path in stale:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
    return stale
