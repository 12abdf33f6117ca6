"""Checks shared by molt's datasets and converters: reading annotation
files the same way everywhere, clear errors for missing inputs."""
import os.path as osp
from typing import IO, List, Optional, Sequence

from mmengine.logging import print_log

__all__ = ['AnnotationError', 'require_file', 'open_annotation',
           'log_once', 'log_notes', 'exclude_videos', 'DATA_README']

DATA_README = 'docs/en/dataset_prepare.md'

# Start-up reports already logged by this process.
_LOGGED = set()


class AnnotationError(ValueError):
    """A malformed annotation; the message names the file and the entry."""


def require_file(path: str, what: str) -> str:
    """Returns ``path`` or raises FileNotFoundError naming it."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{what} not found: {path}. Prepare the data as described in '
            f'{DATA_README}, or set data_root / ann_file in the config.')
    return path


def open_annotation(path: str, newline: Optional[str] = None) -> IO[str]:
    """Opens an annotation file (txt, csv or json) as UTF-8 text.

    A UTF-8 byte-order mark (as some editors on Windows write) is dropped,
    so the first row or field reads the same with or without it. Every
    reader of an annotation file, in the datasets and in the converters,
    opens it here.

    Args:
        path: The file.
        newline: As :func:`open` (``''`` for the :mod:`csv` module).
    """
    return open(path, encoding='utf-8-sig', newline=newline)


def log_once(message: str) -> None:
    """Logs a start-up report unless this process logged it already (a
    dataset built twice, e.g. by ``tools/train.py`` for the head's sizes
    and by the Runner, reports once)."""
    if message not in _LOGGED:
        _LOGGED.add(message)
        print_log(message, logger='current')


def log_notes(notes: Sequence[str], source: str, limit: int = 10) -> None:
    """Logs, in one message and once per process, the irregular annotation
    entries a reader accepted.

    Args:
        notes: One message per entry, naming it (``'<file>:<line>: ...'``
            or ``'<file>, question_id <id>: ...'``) and what was done.
        source: What was read (e.g. the annotation file), for the heading.
        limit: Entries shown; the rest are counted.
    """
    if not notes:
        return
    shown = '\n  '.join(notes[:limit])
    more = (f'\n  ... and {len(notes) - limit} more'
            if len(notes) > limit else '')
    log_once(f'{source}: accepted {len(notes)} irregular entr'
             f'{"y" if len(notes) == 1 else "ies"} the way the official code '
             f'reads them:\n  {shown}{more}')


def exclude_videos(data_list: List[dict], exclude_file: str,
                   source: str) -> List[dict]:
    """Drops samples whose ``video_id`` is listed in ``exclude_file``.

    The converters list the videos they could not decode there, one
    ``<video_id><TAB><reason>`` per line. The number of dropped samples is
    logged so nothing disappears silently.
    """
    if not osp.isfile(exclude_file):
        return data_list
    with open_annotation(exclude_file) as f:
        excluded = {line.split('\t', 1)[0].strip() for line in f}
    excluded.discard('')
    kept = [info for info in data_list if info['video_id'] not in excluded]
    dropped = len(data_list) - len(kept)
    if dropped:
        print_log(
            f'{source}: skipped {dropped} sample(s) of {len(excluded)} '
            f'undecodable video(s) listed in {exclude_file}.',
            logger='current')
    return kept
