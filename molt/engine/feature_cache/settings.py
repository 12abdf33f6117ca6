"""The feature cache's settings, one set for the hook and every tool, and
the autocast dtype the features are computed under.

``FeatureCacheHook`` takes :class:`CacheSettings`' fields as its
arguments (with these defaults); ``tools/extract_features.py``, the
analysis tools and ``scale_benchmark.py`` read the same fields from a
config's hook with :meth:`CacheSettings.from_config`.

The autocast dtype is part of the cache key. A training step's forward
runs under its optimiser wrapper's autocast (:func:`autocast_dtype`);
``--amp`` in the tools means what it means in ``tools/train.py``: the
:class:`~molt.engine.optim_wrappers.BF16OptimWrapper`, i.e.
:data:`AMP_AUTOCAST` (:func:`amp_autocast`). Evaluation steps run without
autocast.
"""
import os.path as osp
from contextlib import nullcontext
from dataclasses import dataclass, fields
from typing import ContextManager, Optional

import torch
from mmengine.optim import AmpOptimWrapper

from ..optim_wrappers import BF16OptimWrapper

__all__ = [
    'CacheSettings', 'HOOK_TYPE', 'AMP_AUTOCAST', 'NO_AUTOCAST',
    'autocast_dtype', 'amp_autocast', 'autocast_context'
]

#: Registered name of the hook that turns the cache on in a config.
HOOK_TYPE = 'FeatureCacheHook'
#: Folder under the work dir that holds the stores by default.
DEFAULT_FOLDER = 'feature_cache'
#: Autocast dtype of ``--amp`` (``tools/train.py``: ``BF16OptimWrapper``).
AMP_AUTOCAST = 'bfloat16'
#: The autocast dtype of a forward without autocast.
NO_AUTOCAST = 'none'


@dataclass(frozen=True)
class CacheSettings:
    """Where the stores live and how they are written and read.

    Attributes:
        cache_dir: Root of the stores; None: ``<work_dir>/feature_cache``
            (see :meth:`root`).
        dtype: Storage dtype (``'float16'`` halves the disk and I/O).
        chunk_rows: Rows per chunk of the cached training order (see
            :class:`~.order.ChunkShuffledOrder`); the training store's rows
            are then laid out in a fixed random order. 0 keeps the
            loader's own order and reads row by row.
        in_memory: Hold complete stores in memory when they fit.
        memory_dir: Memory file system for ``in_memory``.
    """
    cache_dir: Optional[str] = None
    dtype: str = 'float16'
    chunk_rows: int = 64
    in_memory: bool = False
    memory_dir: str = '/dev/shm'

    def root(self, work_dir: str) -> str:
        """The folder of the stores for a run in ``work_dir``."""
        return self.cache_dir or osp.join(work_dir, DEFAULT_FOLDER)

    @property
    def shuffle_rows(self) -> bool:
        """Whether a shuffled split's rows are laid out at random (for the
        chunked order)."""
        return self.chunk_rows > 0

    @property
    def memory_copy_dir(self) -> Optional[str]:
        """Where the in-memory copies go (None when not ``in_memory``)."""
        return self.memory_dir if self.in_memory else None

    @classmethod
    def from_config(cls, cfg) -> Optional['CacheSettings']:
        """The settings of the config's ``FeatureCacheHook`` (None when it
        has none), ``cache_dir`` resolved against ``cfg.work_dir``.

        Raises:
            TypeError: The hook entry has an argument the hook does not
                take.
        """
        for hook in cfg.get('custom_hooks', None) or []:
            if hook.get('type') != HOOK_TYPE:
                continue
            names = {f.name for f in fields(cls)}
            options = {
                k: v
                for k, v in hook.items() if k not in ('type', 'priority')
            }
            unknown = sorted(set(options) - names)
            if unknown:
                raise TypeError(
                    f'{HOOK_TYPE} in custom_hooks: unknown argument(s) '
                    f'{unknown}; it takes {sorted(names)}.')
            settings = cls(**options)
            return cls(**dict(options, cache_dir=settings.root(
                cfg.work_dir)))
        return None


def autocast_dtype(optim_wrapper) -> str:
    """The dtype a training step's forward is autocast to (``'none'``
    without autocast): ``'bfloat16'`` for :class:`BF16OptimWrapper`
    (``tools/train.py --amp``), mmengine's ``AmpOptimWrapper``'s cast dtype
    (float16 by default)."""
    if isinstance(optim_wrapper, BF16OptimWrapper):
        return AMP_AUTOCAST
    if isinstance(optim_wrapper, AmpOptimWrapper):
        return str(optim_wrapper.cast_dtype or torch.float16).replace(
            'torch.', '')
    return NO_AUTOCAST


def amp_autocast(amp: bool) -> str:
    """The autocast dtype of a tool's ``--amp`` flag (for the training
    split; evaluation splits use :data:`NO_AUTOCAST`)."""
    return AMP_AUTOCAST if amp else NO_AUTOCAST


def autocast_context(device: torch.device, autocast: str) -> ContextManager:
    """``torch.autocast`` to the dtype named ``autocast`` on ``device``'s
    type, or no context for :data:`NO_AUTOCAST`."""
    if autocast == NO_AUTOCAST:
        return nullcontext()
    return torch.autocast(device.type, dtype=getattr(torch, autocast))
