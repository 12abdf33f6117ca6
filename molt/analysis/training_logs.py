"""Reading mmengine's JSON training logs into plottable series.

mmengine's ``LocalVisBackend`` writes one JSON object per line to
``<work_dir>/<timestamp>/vis_data/scalars.json``: training lines carry
``epoch``, ``iter`` (global) and ``step`` next to ``loss``, ``lr``, ...;
validation lines carry the metrics (``ave/accuracy``) and ``step`` (the
epoch for epoch-based runs, the iteration otherwise). Each session
(a first start, every ``--resume``) writes its own timestamped folder; a
test run in the same work dir writes a log without training lines.
"""
import glob
import json
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

__all__ = ['TrainingLog', 'load_training_log', 'match_keys']

# Bookkeeping fields of every line, never plotted as keys.
POSITION_FIELDS = ('epoch', 'iter', 'step')


@dataclass
class TrainingLog:
    """The lines of one run's ``scalars.json`` files, split by phase.

    Attributes:
        paths: The files read, oldest first (one per resumed session).
        train: Training lines (they have ``iter``).
        val: Validation lines.
        by_epoch: Whether validation ``step`` counts epochs.
    """
    paths: List[str]
    train: List[dict]
    val: List[dict]
    by_epoch: bool

    def keys(self, phase: str) -> List[str]:
        """Plottable keys of a phase (``'train'``/``'val'``), in order."""
        lines = self.train if phase == 'train' else self.val
        keys = dict.fromkeys(k for line in lines for k in line
                             if k not in POSITION_FIELDS)
        return list(keys)

    def series(self, phase: str, key: str) -> Tuple[List[float], List[float]]:
        """``(x, y)`` of ``key``: training keys over the global iteration,
        validation keys over ``step`` (epoch or iteration)."""
        lines = self.train if phase == 'train' else self.val
        position = 'iter' if phase == 'train' else 'step'
        points = [(line[position], line[key]) for line in lines
                  if key in line and position in line]
        return [p[0] for p in points], [p[1] for p in points]

    def x_label(self, phase: str) -> str:
        if phase == 'train' or not self.by_epoch:
            return 'iteration'
        return 'epoch'


def _read_lines(path: str) -> Tuple[List[dict], List[dict]]:
    """``(train, val)`` lines of one ``scalars.json``.

    Raises:
        ValueError: A line is not JSON (the message names file and line).
    """
    train, val = [], []
    with open(path) as f:
        for number, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
            except json.JSONDecodeError as error:
                raise ValueError(f'{path}:{number} is not a JSON line '
                                 f'({error.msg}).') from error
            (train if 'iter' in line else val).append(line)
    return train, val


def _work_dir_sessions(work_dir: str) -> List[str]:
    """A work dir's ``<timestamp>/vis_data/scalars.json`` files with
    training lines, newest first (test runs are skipped)."""
    sessions = []
    for path in sorted(glob.glob(
            osp.join(work_dir, '*', 'vis_data', 'scalars.json')),
                       reverse=True):
        with open(path) as f:
            if any('"iter"' in line for line in f):
                sessions.append(path)
    if not sessions:
        raise FileNotFoundError(
            f'No training log in {work_dir}: expected '
            f'{osp.join(work_dir, "<timestamp>", "vis_data", "scalars.json")}'
            ' with training lines (written by tools/train.py with the '
            'default LocalVisBackend); pass the json file itself otherwise.')
    return sessions


def load_training_log(path: str) -> TrainingLog:
    """Reads a ``scalars.json``, or a work dir's latest run.

    In a work dir, the newest session with training lines is the run's
    end; an older session that started earlier is the same run before a
    ``--resume`` and contributes its lines up to where the newer one took
    over (a resume from an earlier checkpoint repeats iterations, and the
    newer lines win). An older session that started at the same point or
    later is another attempt and ends the chain.

    Args:
        path: A ``scalars.json``-style file or a work dir.

    Raises:
        FileNotFoundError: Neither a file nor a work dir with training
            logs.
        ValueError: A line is not JSON.
    """
    if osp.isfile(path):
        sessions = [path]
    elif osp.isdir(path):
        sessions = _work_dir_sessions(path)
    else:
        raise FileNotFoundError(f'{path} is neither a log file nor a work '
                                'dir.')
    paths, train, val = [], [], []
    for session in sessions:
        older_train, older_val = _read_lines(session)
        if train:
            start = train[0]['iter']
            if not older_train or older_train[0]['iter'] >= start:
                break  # another attempt, not this run's past
            first_val = val[0]['step'] if val else float('inf')
            # Validation steps count epochs (or iterations), like the
            # newer session's own first validation.
            older_train = [line for line in older_train
                           if line['iter'] < start]
            older_val = [line for line in older_val
                         if line.get('step', 0) < first_val]
        paths.insert(0, session)
        train, val = older_train + train, older_val + val
    by_epoch = bool(train) and 'epoch' in train[0]
    return TrainingLog(paths, train, val, by_epoch)


def match_keys(log_keys: Dict[str, Sequence[str]],
               requested: Sequence[str]) -> List[Tuple[str, str]]:
    """Resolves requested keys to ``(phase, key)`` pairs.

    A requested key that some phase has exactly is taken from every phase
    that has it (``time`` is both a training and a validation key);
    otherwise every key containing it is taken (``acc`` finds
    ``ave/accuracy``).

    Args:
        log_keys: ``{'train': [...], 'val': [...]}`` available keys (the
            union over the runs plotted).
        requested: The ``--keys`` given.

    Raises:
        KeyError: A requested key matches nothing; the message lists the
            available keys.
    """
    pairs: List[Tuple[str, str]] = []
    for wanted in requested:
        found = [(phase, key) for phase, keys in log_keys.items()
                 for key in keys if key == wanted]
        if not found:
            found = [(phase, key) for phase, keys in log_keys.items()
                     for key in keys if wanted in key]
        if not found:
            available = {phase: list(keys) for phase, keys in log_keys.items()}
            raise KeyError(f'--keys {wanted!r} is in no log; available: '
                           f'{available}.')
        pairs += [pair for pair in found if pair not in pairs]
    return pairs
