"""Checks shared by molt's datasets: clear errors for missing inputs."""
import os.path as osp
from typing import Iterable, List, Sequence

from mmengine.logging import print_log

__all__ = ['AnnotationError', 'require_file', 'check_media_files',
           'exclude_videos', 'DATA_README']

DATA_README = 'README.md, section "Data preparation"'


class AnnotationError(ValueError):
    """A malformed annotation; the message names the file and the entry."""


def require_file(path: str, what: str) -> str:
    """Returns ``path`` or raises FileNotFoundError naming it."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{what} not found: {path}. Prepare the data as described in '
            f'{DATA_README}, or set data_root / ann_file in the config.')
    return path


def check_media_files(data_list: Sequence[dict], frame_files: Iterable[str],
                      dataset: str, limit: int = 10) -> None:
    """Verifies that each sample's wav and listed frame files exist.

    Args:
        data_list: Samples with ``frame_dir`` and ``audio_path``.
        frame_files: File names expected inside every ``frame_dir``.
        dataset: Dataset name for the message.
        limit: Missing paths shown in the message.

    Raises:
        FileNotFoundError: Listing the first ``limit`` missing paths and
            how many there are in all.
    """
    frame_files = list(frame_files)
    missing: List[str] = []
    seen = set()
    for info in data_list:
        paths = [info['audio_path']] + [
            osp.join(info['frame_dir'], name) for name in frame_files
        ]
        for path in paths:
            if path not in seen:
                seen.add(path)
                if not osp.isfile(path):
                    missing.append(path)
    if missing:
        shown = '\n  '.join(missing[:limit])
        raise FileNotFoundError(
            f'{dataset}: {len(missing)} media file(s) are missing, e.g.:\n  '
            f'{shown}\nRun the dataset converter (see {DATA_README}); '
            'videos it could not decode are listed in '
            'unreadable_videos.txt and must be removed from the split '
            'files.')


def exclude_videos(data_list: List[dict], exclude_file: str,
                   source: str) -> List[dict]:
    """Drops samples whose ``video_id`` is listed in ``exclude_file``.

    The converters list the videos they could not decode there, one
    ``<video_id><TAB><reason>`` per line. The number of dropped samples is
    logged so nothing disappears silently.
    """
    if not osp.isfile(exclude_file):
        return data_list
    with open(exclude_file, encoding='utf-8') as f:
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
