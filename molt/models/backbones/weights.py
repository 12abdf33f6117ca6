"""Reading local backbone weights and loading them with named errors."""
import os.path as osp
from typing import Dict, Iterable, Optional

import torch
from mmengine.logging import print_log
from torch import nn

from molt.utils.safe_load import safe_torch_load

__all__ = ['check_weights_file', 'read_state_dict', 'load_exact',
           'CheckpointMismatchError']

README_SECTION = 'docs/en/checkpoints.md'


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's keys or shapes do not fit the module."""


def check_weights_file(path: str, owner: str) -> str:
    """Fails fast (at build time) when a pretrained file is missing.

    Args:
        path: Local path of the weights.
        owner: Name of the module that needs them, for the message.

    Returns:
        The expanded path.
    """
    path = osp.expanduser(path)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{owner}: pretrained weights not found at {path!r}. molt never '
            'downloads weights; put the file there or point `pretrained` at '
            f'it (see {README_SECTION}), or set pretrained=None for a random '
            'initialisation. The demos\' tiny encoders are built by `make '
            'pretrained` (tools/pretrain_tiny_encoders.py).')
    return path


def read_state_dict(path: str, owner: str) -> Dict[str, torch.Tensor]:
    """Reads a weights file the way molt reads every checkpoint
    (:func:`~molt.utils.safe_load.safe_torch_load`: ``weights_only=True``,
    a full unpickle only with ``--unsafe-load``) and unwraps
    ``'model'``/``'state_dict'`` containers.

    Args:
        path: Local path of the weights.
        owner: Name of the module that needs them, for messages.

    Returns:
        A flat ``{key: tensor}`` dict.

    Raises:
        UnsafeCheckpointError: The file needs a full unpickle (the message
            names the opt-in).
    """
    path = check_weights_file(path, owner)
    checkpoint = safe_torch_load(path, map_location='cpu')
    if not isinstance(checkpoint, dict):
        raise CheckpointMismatchError(
            f'{owner}: {path} does not hold a dict of tensors '
            f'(got {type(checkpoint).__name__}).')
    for container in ('model', 'state_dict'):
        if isinstance(checkpoint.get(container), dict):
            checkpoint = checkpoint[container]
    return checkpoint


def load_exact(module: nn.Module,
               state_dict: Dict[str, torch.Tensor],
               source: str,
               ignored: Optional[Iterable[str]] = None) -> None:
    """Loads ``state_dict`` into ``module`` requiring an exact fit.

    Every parameter and persistent buffer must be present with the right
    shape, and every key must be used; otherwise the error lists the
    offending keys by name.

    Args:
        module: Module to load into.
        state_dict: Weights, already mapped to ``module``'s key names.
        source: Where the weights came from (file name), for messages.
        ignored: Keys of the checkpoint that are deliberately not loaded
            (e.g. a classifier); they are logged by name.
    """
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    mismatched = sorted(
        f'{key}: checkpoint {tuple(value.shape)} vs model '
        f'{tuple(expected[key].shape)}' for key, value in state_dict.items()
        if key in expected and value.shape != expected[key].shape)
    problems = []
    for title, keys in (('missing keys', missing),
                        ('unexpected keys', unexpected),
                        ('shape mismatches', mismatched)):
        if keys:
            shown = ', '.join(keys[:20])
            more = f' ... (+{len(keys) - 20} more)' if len(keys) > 20 else ''
            problems.append(f'{len(keys)} {title}: {shown}{more}')
    if problems:
        raise CheckpointMismatchError(
            f'{source} does not fit {type(module).__name__}: ' +
            '; '.join(problems) +
            '. Check that the architecture in the config matches the '
            'checkpoint.')
    module.load_state_dict(state_dict, strict=True)
    ignored = sorted(ignored or [])
    if ignored:
        print_log(
            f'{source}: not used by {type(module).__name__} (by design): '
            f'{", ".join(ignored)}',
            logger='current')
