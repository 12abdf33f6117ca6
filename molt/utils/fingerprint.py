"""Content hashes of module weights and of files.

:func:`weights_hash` is shared by the feature cache (whose key covers the frozen
backbones' weights) and the checkpoints (which record the weights of the
frozen backbones they leave out).
"""
import hashlib
from typing import Iterable

import torch
from torch import nn

__all__ = ['weights_hash', 'file_hash']


def weights_hash(modules: Iterable[nn.Module]) -> str:
    """SHA-256 over the names and raw bytes of the modules' state dicts.

    Two modules hash alike exactly when they hold the same tensors under the
    same names (bit for bit, dtype included), whatever file they came from.

    Args:
        modules: Modules in a fixed order.

    Returns:
        The hex digest (64 characters).
    """
    digest = hashlib.sha256()
    for module in modules:
        for name, tensor in sorted(module.state_dict().items()):
            digest.update(name.encode())
            array = tensor.detach().cpu().contiguous().view(-1).view(
                torch.uint8).numpy()
            digest.update(memoryview(array))
    return digest.hexdigest()


def file_hash(path: str) -> str:
    """SHA-256 of a file's bytes (hex digest), read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()
