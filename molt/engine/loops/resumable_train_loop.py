"""An epoch-based train loop that resumes exactly and stops cleanly."""
import bisect
import copy
import signal
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.dist import all_reduce, get_dist_info, is_distributed
from mmengine.device import get_device
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from molt.registry import LOOPS
from ..hooks.safe_checkpoint_hook import save_on_stop
from ..random_state import (capture_rng_state, preserved_rng_state,
                            restore_rng_state)
from .resumable_sampler import ResumableSampler, enable_sample_seeding
from .stop_signals import TrainingInterrupted, stop_requests

__all__ = ['ResumableEpochBasedTrainLoop']


def _with_own_generator(dataloader: dict, seed: Optional[int]) -> dict:
    """The data loader config with a generator of its own: creating an
    iterator then draws no number from the global torch generator (with
    persistent workers only the first epoch creates one)."""
    dataloader = copy.copy(dataloader)
    generator = torch.Generator()
    generator.manual_seed(seed or 0)
    dataloader.setdefault('generator', generator)
    return dataloader


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """mmengine's ``EpochBasedTrainLoop``, resumable bit for bit.

    ``MoltRunner`` uses it wherever a config asks for mmengine's epoch loop.
    On top of mmengine's behaviour:

    * **Position.** :meth:`resume_state` tells a checkpoint how many batches
      of the current epoch are done and whether the finished epoch's
      validation is still to run; a resumed run starts the epoch's data
      order at that batch (:class:`ResumableSampler`) and validates first
      when it has to.
    * **Random state.** :meth:`resume_state` also holds the Python, NumPy
      and torch (CPU, CUDA) generator states at the point where training
      continues, and the resumed loop restores them at the same point:
      before the epoch starts for an epoch-end checkpoint, right before the
      next batch for a mid-epoch one. Validation runs with the training's
      random state preserved, and each sample is loaded under a seed of its
      own (see :mod:`.resumable_sampler`), so neither validation nor data
      workers shift the training's random stream.
    * **Stop requests.** SIGTERM or SIGINT during training make the loop
      save a resumable checkpoint at the next iteration boundary (after the
      running validation, if one runs) and raise
      :class:`TrainingInterrupted`; ``tools/train.py`` exits with
      ``128 + signal``. In distributed runs the ranks agree on the
      iteration to stop at.

    Args: as ``EpochBasedTrainLoop``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None):
        if isinstance(dataloader, dict):
            dataloader = _with_own_generator(dataloader, runner.seed)
        super().__init__(runner, dataloader, max_epochs, val_begin,
                         val_interval, dynamic_intervals)
        if self.dataloader.batch_sampler is not None:
            enable_sample_seeding(self.dataloader.dataset)
        self.stop_signal: Optional[int] = None
        self._batch_in_epoch = 0  # batches of the current epoch done
        self._val_pending = False  # the finished epoch still validates
        self._validating = False
        self._rng_before_val: Optional[dict] = None
        self._rng_to_restore: Optional[dict] = None
        self._batches_to_skip = 0

    # -- checkpoint state ----------------------------------------------------
    def resume_state(self) -> dict:
        """What a checkpoint written now needs to continue exactly: the
        generator states and the position within the epoch.

        A checkpoint written during validation (the best file, or the epoch
        file saved again with the new best score) gets the state from
        before validation, and validation counts as done.
        """
        if self._validating:
            return dict(rng=self._rng_before_val, batch_in_epoch=0,
                        val_pending=False)
        return dict(rng=capture_rng_state(),
                    batch_in_epoch=self._batch_in_epoch,
                    val_pending=self._val_pending)

    def load_resume_state(self, state: dict) -> None:
        """Takes :meth:`resume_state` from a checkpoint (the runner has set
        ``epoch`` and ``iter`` from its ``meta``)."""
        self._batches_to_skip = state['batch_in_epoch']
        self._val_pending = state['val_pending']
        self._rng_to_restore = state['rng']

    def _restore_rng(self) -> None:
        if self._rng_to_restore is not None:
            restore_rng_state(self._rng_to_restore)
            self._rng_to_restore = None

    # -- the loop ------------------------------------------------------------
    def run(self) -> torch.nn.Module:
        """Launches training (see the class docstring)."""
        self.runner.call_hook('before_train')
        with stop_requests(self.request_stop):
            if self._val_pending and self.runner.val_loop is not None:
                # Resumed from a checkpoint written before its epoch's
                # validation.
                self._restore_rng()
                self._validate()
                self._stop_if_requested()
            while self._epoch < self._max_epochs and not self.stop_training:
                self.run_epoch()
                self._decide_current_val_interval()
                if self._val_pending:
                    self._validate()
                self._stop_if_requested()
        self.runner.call_hook('after_train')
        return self.runner.model

    def run_epoch(self) -> None:
        """Iterates one epoch, or the rest of one after a mid-epoch resume."""
        skip, self._batches_to_skip = self._batches_to_skip, 0
        if not skip:
            # An epoch-end checkpoint continues before the next epoch.
            self._restore_rng()
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        batches = self._iterate_from(skip)
        # A mid-epoch checkpoint continues right before the next batch.
        self._restore_rng()
        self._batch_in_epoch = skip
        for idx, data_batch in enumerate(batches, start=skip):
            self.run_iter(idx, data_batch)
            self._stop_if_requested()
        self._batch_in_epoch = 0
        self._val_pending = self._validates_after(self._epoch + 1)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def run_iter(self, idx: int, data_batch) -> None:
        """mmengine's, with the batch counted as done before the
        ``after_train_iter`` hooks (which may save a checkpoint)."""
        self.runner.call_hook(
            'before_train_iter', batch_idx=idx, data_batch=data_batch)
        outputs = self.runner.model.train_step(
            data_batch, optim_wrapper=self.runner.optim_wrapper)
        self._batch_in_epoch = idx + 1
        self.runner.call_hook(
            'after_train_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)
        self._iter += 1

    def _iterate_from(self, skip: int):
        """An iterator over the epoch's batches from batch ``skip`` on.

        The batch sampler's index order is wrapped in a
        :class:`ResumableSampler` (again whenever a hook has swapped it,
        e.g. the feature cache's chunked order), which starts at the
        resumed batch and gives each sample its seed.
        """
        batch_sampler = self.dataloader.batch_sampler
        if batch_sampler is None:  # no batching: nothing to resume within
            if skip:
                raise RuntimeError(
                    'Cannot resume mid-epoch: the train data loader has no '
                    'batch sampler (batch_size=None).')
            return iter(self.dataloader)
        order = batch_sampler.sampler
        if not isinstance(order, ResumableSampler):
            order = ResumableSampler(self.dataloader.dataset, order,
                                     self.runner.seed)
            batch_sampler.sampler = order
        order.set_epoch(self._epoch)
        order.start_at(skip * batch_sampler.batch_size)
        return iter(self.dataloader)

    def _validates_after(self, epoch: int) -> bool:
        """Whether the loop validates once ``epoch`` epochs are done
        (mmengine's rule, dynamic intervals included)."""
        if self.runner.val_loop is None or epoch < self.val_begin:
            return False
        step = bisect.bisect(self.dynamic_milestones, epoch + 1)
        interval = self.dynamic_intervals[step - 1]
        return epoch % interval == 0 or epoch == self._max_epochs

    def _validate(self) -> None:
        """Runs validation without touching the training's random state."""
        self._validating = True
        try:
            with preserved_rng_state() as state:
                self._rng_before_val = state
                self.runner.val_loop.run()
        finally:
            self._validating = False
            self._rng_before_val = None
        self._val_pending = False

    # -- stopping ------------------------------------------------------------
    def request_stop(self, signum: int) -> None:
        """Asks the loop to stop at the next iteration boundary (the
        SIGTERM/SIGINT handler)."""
        self.stop_signal = signum
        self.runner.logger.warning(
            f'Received {signal.Signals(signum).name}: saving a resumable '
            'checkpoint at the next iteration boundary, then stopping (a '
            'second signal stops at once, without saving).')

    def _agreed_stop_signal(self) -> Optional[int]:
        """The stop request, agreed among the ranks of a distributed run."""
        if not is_distributed():
            return self.stop_signal
        flag = torch.tensor(
            self.stop_signal or 0, dtype=torch.int64, device=get_device())
        all_reduce(flag, op='max')
        return int(flag.item()) or None

    def _stop_if_requested(self) -> None:
        signum = self._agreed_stop_signal()
        if signum is None:
            return
        path = save_on_stop(self.runner)
        rank, _ = get_dist_info()
        if rank == 0:
            self.runner.logger.warning(
                f'Stopped at epoch {self._epoch + 1}, iteration {self._iter} '
                f'({self._batch_in_epoch} batches into the epoch); continue '
                f'with tools/train.py CONFIG --work-dir '
                f'{self.runner.work_dir} --resume')
        raise TrainingInterrupted(signum, path)
