"""Which checkpoints of a work dir a run resumes from, and keeping an
earlier run's files out of a new run's way."""
import glob
import os
import os.path as osp
import time
from typing import List, Optional

from molt.utils.checkpoint import CorruptCheckpointError, check_checkpoint_file
from ..hooks.safe_checkpoint_hook import LAST_CHECKPOINT

__all__ = ['latest_checkpoint', 'set_aside_earlier_run',
           'NothingToResumeError', 'EARLIER_RUNS_DIR']

#: Sub-folder of a work dir that receives the checkpoints of earlier runs.
EARLIER_RUNS_DIR = 'earlier_runs'


class NothingToResumeError(RuntimeError):
    """``--resume`` found checkpoints in the work dir but none it can read."""


def _checkpoint_files(work_dir: str) -> List[str]:
    return sorted(glob.glob(osp.join(glob.escape(work_dir), '*.pth')))


def latest_checkpoint(work_dir: str, logger) -> Optional[str]:
    """The newest complete checkpoint of a work dir to resume from.

    ``last_checkpoint`` names it; when that file is missing or names a
    file that is gone or damaged (a work dir of an older molt, or files
    removed by hand), the newest readable ``*.pth`` of the work dir other
    than best files is taken instead, with a warning naming what was
    passed over.

    Returns:
        The path, or None when the work dir holds no checkpoint at all (a
        first start: the run begins from scratch).

    Raises:
        NothingToResumeError: There are checkpoints, but none that is
            complete; the message names each file and its problem.
    """
    candidates = []
    pointer = osp.join(work_dir, LAST_CHECKPOINT)
    if osp.isfile(pointer):
        with open(pointer) as f:
            candidates.append(f.read().strip())
    others = [
        path for path in _checkpoint_files(work_dir)
        if not osp.basename(path).startswith('best_')
    ]
    candidates += sorted(others, key=osp.getmtime, reverse=True)
    problems = []
    for path in dict.fromkeys(candidates):
        try:
            check_checkpoint_file(path)
        except (FileNotFoundError, CorruptCheckpointError) as error:
            logger.warning(f'Not resuming from {path}: {error}')
            problems.append(f'{path}: {error}')
            continue
        return path
    if problems:
        raise NothingToResumeError(
            f'--resume: no readable checkpoint to resume from in {work_dir}. '
            'Found: ' + ' | '.join(problems) + '. Nothing was trained or '
            'overwritten. Resume from another file with --resume PATH, or '
            'start a new run without --resume (the files above are then '
            f'moved to {osp.join(work_dir, EARLIER_RUNS_DIR)}/).')
    return None


def set_aside_earlier_run(work_dir: str, logger) -> Optional[str]:
    """Moves the checkpoints of an earlier run (``*.pth`` and
    ``last_checkpoint``) out of ``work_dir`` before a new run starts there,
    so that none of them is overwritten (a best file of the same name) or
    taken for the new run's.

    Returns:
        The folder they went to (``<work_dir>/earlier_runs/<time>``), or
        None when there was nothing to move.
    """
    files = _checkpoint_files(work_dir)
    pointer = osp.join(work_dir, LAST_CHECKPOINT)
    if osp.isfile(pointer):
        files.append(pointer)
    if not files:
        return None
    stamp = time.strftime('%Y%m%d_%H%M%S', time.localtime())
    target = osp.join(work_dir, EARLIER_RUNS_DIR, stamp)
    suffix = 1
    while osp.exists(target):
        target = osp.join(work_dir, EARLIER_RUNS_DIR, f'{stamp}_{suffix}')
        suffix += 1
    os.makedirs(target)
    for path in files:
        os.replace(path, osp.join(target, osp.basename(path)))
    logger.warning(
        f'{work_dir} held the checkpoints of an earlier run; this new run '
        f'(no --resume) moved them to {target} so that none is overwritten: '
        + ', '.join(osp.basename(path) for path in files))
    return target
