"""A data order that can be continued mid-epoch, and per-sample seeds.

:class:`ResumableSampler` wraps the index order a batch sampler reads
(mmengine's ``DefaultSampler`` in molt's configs, or the feature cache's
chunked order: both depend on the seed and the epoch only) and can start an
epoch at any position, so a run resumed mid-epoch sees exactly the batches
an uninterrupted run would.

It also gives every sample a seed derived from ``(seed, epoch, index)``.
:func:`enable_sample_seeding` makes the data loader load each sample with
Python's, NumPy's and torch's CPU generators seeded that way, in whichever
process loads it. Random transforms then draw the same numbers whatever
``num_workers`` is, whether workers persist across epochs, and wherever a
run was stopped and resumed; in the main process (``num_workers=0``) the
generators are put back afterwards, so loading data never shifts the
training's own random stream.
"""
import functools
import itertools
from typing import Iterator, List, Optional, Sized, Union

import numpy as np
from mmengine.registry import DATA_SAMPLERS
from torch.utils.data import Sampler

from ..random_state import preserved_rng_state, seed_cpu_generators

__all__ = ['SampleIndex', 'ResumableSampler', 'enable_sample_seeding',
           'sample_seed']


class SampleIndex(int):
    """A dataset index (an ``int``) that carries its sample's seed."""

    seed: int

    def __new__(cls, index: int, seed: int) -> 'SampleIndex':
        obj = super().__new__(cls, index)
        obj.seed = seed
        return obj

    def __reduce__(self):
        # Indices travel to data workers by pickle.
        return SampleIndex, (int(self), self.seed)


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """A well-mixed 32-bit seed for sample ``index`` in ``epoch``."""
    sequence = np.random.SeedSequence([seed % 2**32, epoch, index])
    return int(sequence.generate_state(1)[0])


class ResumableSampler(Sampler):
    """Wraps a sampler: per-sample seeds and a one-shot start position.

    Args:
        dataset: The dataset.
        sampler: The wrapped sampler or its config (built with ``dataset``
            and ``seed``); its order must depend on its seed and epoch only.
        seed: The run's seed; default: the wrapped sampler's.
    """

    def __init__(self,
                 dataset: Sized,
                 sampler: Union[dict, Sampler],
                 seed: Optional[int] = None) -> None:
        if isinstance(sampler, dict):
            sampler = DATA_SAMPLERS.build(
                sampler, default_args=dict(dataset=dataset, seed=seed))
        self.dataset = dataset
        self.sampler = sampler
        self.seed = seed if seed is not None else getattr(sampler, 'seed', 0)
        self.epoch = 0
        self._start = 0

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch (the wrapped sampler's too)."""
        self.epoch = epoch
        if hasattr(self.sampler, 'set_epoch'):
            self.sampler.set_epoch(epoch)

    def start_at(self, position: int) -> None:
        """Makes the next pass skip the epoch's first ``position`` samples
        (once; later passes start at 0)."""
        self._start = position

    def __iter__(self) -> Iterator[SampleIndex]:
        start, self._start = self._start, 0
        for index in itertools.islice(iter(self.sampler), start, None):
            yield SampleIndex(index, sample_seed(self.seed, self.epoch, index))

    def __len__(self) -> int:
        # The full epoch, also when it starts late: the loop counts batch
        # indices from the start position.
        return len(self.sampler)


def _seeded_getitems(dataset, indices: List[int]) -> list:
    samples = []
    for index in indices:
        seed = getattr(index, 'seed', None)
        if seed is None:
            samples.append(dataset[index])
            continue
        with preserved_rng_state(cuda=False):
            seed_cpu_generators(seed)
            samples.append(dataset[int(index)])
    return samples


def enable_sample_seeding(dataset) -> None:
    """Makes batched loading (the data loader's ``__getitems__`` protocol)
    seed each :class:`SampleIndex` with its own seed; plain indices load as
    before. Set on the dataset instance, so it reaches data workers with
    it; ``dataset[i]`` itself is unchanged."""
    dataset.__getitems__ = functools.partial(_seeded_getitems, dataset)
