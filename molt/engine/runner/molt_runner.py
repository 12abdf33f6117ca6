"""mmengine's Runner with molt's checkpoints."""
import functools
import os.path as osp
import time
from typing import Callable, Optional, Union

import mmengine
from mmengine.dist import broadcast_object_list, is_main_process, master_only
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.runner import EpochBasedTrainLoop, Runner
from mmengine.utils import apply_to, get_git_hash
from torch import nn
from torch.utils.data import DataLoader

from molt.registry import RUNNERS
from molt.utils.atomic_io import atomic_save
from molt.utils.checkpoint import (CHECKPOINT_FORMAT, check_resumable,
                                   load_state_into_model,
                                   model_checkpoint_state, read_checkpoint)
from ..loops import IgnoreStopSignals, ResumableEpochBasedTrainLoop
from .message_hub_state import plain_message_hub, restore_message_hub
from .work_dir_checkpoints import latest_checkpoint, set_aside_earlier_run

__all__ = ['MoltRunner']


def _to_cpu(state):
    return apply_to(state, lambda x: hasattr(x, 'cpu'), lambda x: x.cpu())


@RUNNERS.register_module()
class MoltRunner(Runner):
    """mmengine's ``Runner`` with checkpoints a user can trust.

    Configs select it with ``runner_type = 'MoltRunner'``
    (``configs/_base_/default_runtime.py``). Differences from mmengine:

    * **Adapter-only checkpoints**: :meth:`save_checkpoint` stores the
      model without its refillable frozen backbones, plus their
      fingerprints (:func:`molt.utils.checkpoint.model_checkpoint_state`),
      and, in files a run can continue from, the train loop's
      ``resume_state`` (random states, position in the data). Files are
      written atomically (temporary name, then rename).
    * **Strict loading**: ``load_from``, ``--resume`` and ``tools/test.py``
      go through :func:`molt.utils.checkpoint.load_state_into_model`:
      misfitting keys or other backbone weights are refused unless the
      config sets ``load_strict = False`` (then they are logged as a
      warning); resuming is always strict.
    * **Resuming** refuses a weights-only file (e.g. a best checkpoint),
      restores the exact position and random state, and finds the newest
      complete checkpoint of the work dir even if ``last_checkpoint`` is
      stale; with checkpoints present but none readable it stops, naming
      them (:func:`~.work_dir_checkpoints.latest_checkpoint`).
    * **A new run never overwrites an earlier one**: training that does
      not resume from the work dir first moves the work dir's checkpoints
      to ``earlier_runs/<time>/``
      (:func:`~.work_dir_checkpoints.set_aside_earlier_run`).
    * mmengine's ``EpochBasedTrainLoop`` becomes
      :class:`~molt.engine.loops.ResumableEpochBasedTrainLoop`; data
      workers ignore SIGINT/SIGTERM, which the train loop handles.
    """

    _resuming = False
    _resume_state: Optional[dict] = None
    _starting_training = False

    @staticmethod
    def build_dataloader(dataloader: Union[DataLoader, dict],
                         seed: Optional[int] = None,
                         diff_rank_seed: bool = False) -> DataLoader:
        """mmengine's data loader, whose workers ignore stop signals."""
        loader = Runner.build_dataloader(dataloader, seed, diff_rank_seed)
        if loader.num_workers > 0 and not isinstance(loader.worker_init_fn,
                                                     IgnoreStopSignals):
            loader.worker_init_fn = IgnoreStopSignals(loader.worker_init_fn)
        return loader

    def build_train_loop(self, loop):
        """mmengine's, with ``EpochBasedTrainLoop`` made resumable."""
        if isinstance(loop, dict):
            loop = dict(loop)
            if loop.get('type') in ('EpochBasedTrainLoop',
                                    EpochBasedTrainLoop):
                loop['type'] = ResumableEpochBasedTrainLoop
            elif 'type' not in loop and loop.get('by_epoch'):
                del loop['by_epoch']
                loop['type'] = ResumableEpochBasedTrainLoop
        return super().build_train_loop(loop)

    @functools.cached_property
    def _config_text(self) -> str:
        """The config as text, for every checkpoint's ``meta['cfg']``
        (formatting it takes most of a second; it does not change)."""
        return self.cfg.pretty_text

    @property
    def _model(self) -> nn.Module:
        return self.model.module if is_model_wrapper(self.model) else \
            self.model

    # -- saving --------------------------------------------------------------
    @master_only
    def save_checkpoint(self,
                        out_dir: str,
                        filename: str,
                        file_client_args: Optional[dict] = None,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        meta: Optional[dict] = None,
                        by_epoch: bool = True,
                        backend_args: Optional[dict] = None) -> None:
        """Writes an adapter-only checkpoint atomically.

        Same arguments and ``meta`` as mmengine's; the content is described
        in :mod:`molt.utils.checkpoint`.
        """
        if file_client_args is not None or not isinstance(
                get_file_backend(out_dir, backend_args=backend_args),
                LocalBackend):
            raise NotImplementedError(
                f'molt writes checkpoints to local folders only (atomically, '
                f'by renaming); got out_dir={out_dir!r}.')
        meta = dict(meta or {})
        meta.setdefault('epoch', self.epoch + 1 if by_epoch else self.epoch)
        meta.setdefault('iter', self.iter if by_epoch else self.iter + 1)
        meta.update(
            cfg=self._config_text,
            seed=self.seed,
            experiment_name=self.experiment_name,
            time=time.strftime('%Y%m%d_%H%M%S', time.localtime()),
            mmengine_version=mmengine.__version__ + get_git_hash(),
            checkpoint_format=CHECKPOINT_FORMAT)
        loader = getattr(self.train_loop, 'dataloader', None)
        dataset = getattr(loader, 'dataset', None)
        if hasattr(dataset, 'metainfo'):
            meta['dataset_meta'] = dataset.metainfo
        checkpoint = dict(
            meta=meta,
            **model_checkpoint_state(self._model),
            message_hub=plain_message_hub(
                _to_cpu(self.message_hub.state_dict())))
        if save_optimizer:
            if not isinstance(self.optim_wrapper, OptimWrapper):
                raise TypeError('optim_wrapper must be built before saving '
                                f'its state; got {self.optim_wrapper!r}.')
            checkpoint['optimizer'] = _to_cpu(self.optim_wrapper.state_dict())
            if isinstance(self.train_loop, ResumableEpochBasedTrainLoop):
                checkpoint['resume_state'] = self.train_loop.resume_state()
        if save_param_scheduler and self.param_schedulers is not None:
            checkpoint['param_schedulers'] = _scheduler_states(
                self.param_schedulers)
        self.call_hook('before_save_checkpoint', checkpoint=checkpoint)
        atomic_save(checkpoint, osp.join(out_dir, filename))

    # -- loading -------------------------------------------------------------
    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: Optional[bool] = None,
                        revise_keys: Optional[list] = None) -> dict:
        """Loads a checkpoint into the model (see
        :func:`molt.utils.checkpoint.load_model_checkpoint`).

        Args:
            filename: The checkpoint.
            map_location: Same as :func:`torch.load`.
            strict: Default: the config's ``load_strict`` (True unless
                set); always True when resuming.
            revise_keys: Unused (a ``module.`` prefix is always stripped);
                kept for mmengine's signature.
        """
        if strict is None:
            strict = self._resuming or self.cfg.get('load_strict', True)
        checkpoint = read_checkpoint(filename, map_location=map_location)
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = restore_message_hub(
                checkpoint['message_hub'])
        if self._resuming:
            exact = check_resumable(checkpoint, filename)
            self._resume_state = checkpoint['resume_state'] if exact else None
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        load_state_into_model(self._model, checkpoint, filename, strict)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def resume(self,
               filename: str,
               resume_optimizer: bool = True,
               resume_param_scheduler: bool = True,
               map_location: Union[str, Callable] = 'default') -> None:
        """mmengine's resume, refusing weights-only files and restoring the
        train loop's exact position and random state."""
        self._resuming, self._resume_state = True, None
        try:
            super().resume(filename, resume_optimizer, resume_param_scheduler,
                           map_location)
        finally:
            self._resuming = False
        if self._resume_state is None:
            self.logger.warning(
                f'{filename} was written without molt\'s resume state '
                '(random-number states, position in the data): training '
                'continues with fresh random states, so it will not match '
                'an uninterrupted run bit for bit.')
        elif isinstance(self.train_loop, ResumableEpochBasedTrainLoop):
            self.train_loop.load_resume_state(self._resume_state)
        self._resume_state = None

    def train(self) -> nn.Module:
        """mmengine's ``train``; see :meth:`load_or_resume` for what a new
        run does first."""
        self._starting_training = True
        try:
            return super().train()
        finally:
            self._starting_training = False

    def load_or_resume(self) -> None:
        """mmengine's, with two changes.

        * ``--resume`` (no path) takes the newest complete checkpoint of
          the work dir (:func:`latest_checkpoint`), and stops when there
          are checkpoints but none is readable.
        * Training that does not continue from the work dir (a new run,
          or ``--resume`` of a file elsewhere) first moves the checkpoints
          already there aside (:func:`set_aside_earlier_run`); a
          ``load_from`` file among them is read from its new place.
        """
        if self._has_loaded:
            return super().load_or_resume()
        auto_resume = self._resume and self._load_from is None
        if auto_resume:
            path = latest_checkpoint(self.work_dir, self.logger)
            if path is not None:
                self.logger.info(f'Resuming from {path}, the newest '
                                 'checkpoint of the work dir.')
                self.resume(path)
                self._has_loaded = True
                return
            self.logger.warning(f'--resume: {self.work_dir} holds no '
                                'checkpoint yet; training from the start.')
        if self._starting_training and not (
                self._resume and self._load_from is not None
                and _directly_in(self._load_from, self.work_dir)):
            self._set_aside_earlier_run()
        if not auto_resume:
            super().load_or_resume()

    def _set_aside_earlier_run(self) -> None:
        moved = [
            set_aside_earlier_run(self.work_dir, self.logger)
            if is_main_process() else None
        ]
        broadcast_object_list(moved)
        if moved[0] and self._load_from and _directly_in(
                self._load_from, self.work_dir):
            self._load_from = osp.join(moved[0],
                                       osp.basename(self._load_from))


def _directly_in(path: str, directory: str) -> bool:
    """Whether ``path`` is a file of ``directory`` itself (not of a
    sub-folder such as ``earlier_runs/``)."""
    return osp.dirname(osp.realpath(path)) == osp.realpath(directory)


def _scheduler_states(schedulers) -> Union[list, dict]:
    if isinstance(schedulers, dict):
        return {
            name: [s.state_dict() for s in group]
            for name, group in schedulers.items()
        }
    return [s.state_dict() for s in schedulers]
