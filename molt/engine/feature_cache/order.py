"""The order a split is read in, and which process writes which rows.

* :func:`epoch_indices` and :func:`assign_writer_rows`: before a filling
  pass of a multi-process run, every row goes to exactly one process.
* :class:`ChunkShuffledOrder` and :func:`read_in_chunks`: once a shuffled
  training split's store is complete, its epochs visit chunks of
  consecutive rows, so that reading the store is close to sequential.
"""
from itertools import islice
from typing import Iterable, Iterator, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from torch.utils.data import Sampler

from .store import FeatureStore

__all__ = [
    'epoch_indices', 'assign_writer_rows', 'ChunkShuffledOrder',
    'read_in_chunks'
]


def epoch_indices(sampler: Sampler, epoch: Optional[int]) -> List[int]:
    """The sample indices ``sampler`` gives this process in ``epoch`` (for
    samplers whose order depends only on their seed and epoch, like
    mmengine's ``DefaultSampler``); None: in its current epoch."""
    if epoch is not None and hasattr(sampler, 'set_epoch'):
        sampler.set_epoch(epoch)
    return list(islice(iter(sampler), len(sampler)))


def assign_writer_rows(store: FeatureStore, rows_seen: Iterable[int]) -> None:
    """Gives each row to exactly one process before a filling pass.

    A row goes to the lowest rank that sees one of its samples, so a
    sample seen by two processes (the padding of ``DefaultSampler``, or
    two samples of one video) is written once. Collective in a
    multi-process run.

    Args:
        store: The store (its :attr:`~FeatureStore.writer_rows` is set).
        rows_seen: Rows of the samples this process will compute.
    """
    rank, world_size = get_dist_info()
    if world_size == 1:
        store.writer_rows = None
        return
    everyone = all_gather_object(sorted({int(r) for r in rows_seen}))
    taken: set = set()
    for other, rows in enumerate(everyone):
        owned = set(rows) - taken
        if other == rank:
            store.writer_rows = frozenset(owned)
        taken |= owned


class ChunkShuffledOrder(Sampler):
    """A shuffling ``DefaultSampler``'s epoch, shuffled within chunks of the
    store instead of across it.

    The store's rows are cut into chunks of ``chunk_rows`` consecutive rows
    (consecutive on disk). Each epoch visits the chunks in a random order
    and the samples of a chunk in a random order, then pads and splits the
    order across processes as ``DefaultSampler`` does (interleaved, so all
    processes read the same chunk at a time). A cached epoch then reads the
    store chunk by chunk, close to sequentially, instead of at random.

    With rows laid out in a fixed random order (``shuffle_rows`` of
    :func:`~.setup.prepare_feature_cache`) a chunk is a random subset of the
    videos; what differs from a full shuffle is that a batch draws its
    samples from one chunk (or two, at a chunk's end) of this fixed
    partition. The seed and epoch are the wrapped sampler's.

    Args:
        sampler: The loader's ``DefaultSampler`` (``shuffle=True``).
        rows: ``(len(dataset),)`` store row of every sample.
        chunk_rows: Rows per chunk.
    """

    def __init__(self, sampler: Sampler, rows: np.ndarray, chunk_rows: int):
        self.sampler = sampler
        self.chunks = np.asarray(rows) // chunk_rows

    def __iter__(self) -> Iterator[int]:
        sampler = self.sampler
        generator = torch.Generator()
        generator.manual_seed(sampler.seed + sampler.epoch)
        num_chunks = int(self.chunks.max()) + 1
        chunk_rank = torch.randperm(num_chunks, generator=generator).numpy()
        within = torch.rand(len(self.chunks), generator=generator).numpy()
        indices = np.lexsort((within, chunk_rank[self.chunks])).tolist()
        if sampler.round_up:
            repeats = sampler.total_size // len(indices) + 1
            indices = (indices * repeats)[:sampler.total_size]
        return iter(indices[sampler.rank:sampler.total_size:
                            sampler.world_size])

    def __len__(self) -> int:
        return len(self.sampler)

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)


def read_in_chunks(loader, rows: np.ndarray, chunk_rows: int) -> bool:
    """Makes a shuffling loader follow :class:`ChunkShuffledOrder` (its
    batch sampler draws from the wrapper; the loader's own sampler keeps
    its seed and epoch).

    Args:
        loader: A data loader whose sampler is a shuffling
            ``DefaultSampler``.
        rows: ``(len(dataset),)`` store row of every sample.
        chunk_rows: Rows per chunk; 0 leaves the loader as it is.

    Returns:
        Whether the loader now reads in chunks.
    """
    batch_sampler = loader.batch_sampler
    if isinstance(batch_sampler.sampler, ChunkShuffledOrder):
        return True
    if chunk_rows <= 0 or not getattr(loader.sampler, 'shuffle', False):
        return False
    batch_sampler.sampler = ChunkShuffledOrder(loader.sampler, rows,
                                               chunk_rows)
    return True
