"""The random-number state of a process: Python, NumPy, torch (CPU and
every initialised CUDA device), captured and restored as one dict."""
import logging
import random
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch
from mmengine.logging import print_log

__all__ = ['capture_rng_state', 'restore_rng_state', 'preserved_rng_state',
           'seed_cpu_generators']


def _cuda_in_use() -> bool:
    return torch.cuda.is_available() and torch.cuda.is_initialized()


def capture_rng_state(cuda: bool = True) -> dict:
    """The current states (copies), e.g. for a checkpoint.

    Args:
        cuda: Include the CUDA generators, when CUDA is initialised.

    Returns:
        ``{'python', 'numpy', 'torch'[, 'cuda']}``.
    """
    state = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if cuda and _cuda_in_use():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Sets the states of :func:`capture_rng_state` (tensors may have been
    mapped to any device when loaded)."""
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'].cpu())
    saved_cuda = state.get('cuda')
    if saved_cuda is None or not torch.cuda.is_available():
        if saved_cuda is not None:
            print_log(
                'The checkpoint holds CUDA random states but CUDA is not '
                'available: they are not restored.',
                logger='current', level=logging.WARNING)
        return
    devices = torch.cuda.device_count()
    if len(saved_cuda) != devices:
        print_log(
            f'The checkpoint holds the random states of {len(saved_cuda)} CUDA '
            f'device(s), this machine has {devices}: restoring the first '
            f'{min(devices, len(saved_cuda))}.',
            logger='current', level=logging.WARNING)
    for index, device_state in enumerate(saved_cuda[:devices]):
        torch.cuda.set_rng_state(device_state.cpu(), index)


@contextmanager
def preserved_rng_state(cuda: bool = True) -> Iterator[dict]:
    """Runs the body and then puts every generator back as it was, so the
    body's draws do not shift anyone else's.

    Yields:
        The state captured on entry.
    """
    state = capture_rng_state(cuda)
    try:
        yield state
    finally:
        restore_rng_state(state)


def seed_cpu_generators(seed: int) -> None:
    """Seeds Python's, NumPy's and torch's CPU generators (not CUDA's, which
    data loading never uses)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.default_generator.manual_seed(seed)
