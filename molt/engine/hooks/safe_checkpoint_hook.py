"""mmengine's CheckpointHook with crash-safe file handling."""
import os
import os.path as osp
import shutil

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from molt.registry import HOOKS
from molt.utils.atomic_io import atomic_write_text, remove_stale_temporaries

__all__ = ['SafeCheckpointHook', 'save_on_stop']

LAST_CHECKPOINT = 'last_checkpoint'


def _inside(path: str, directory: str) -> bool:
    return osp.realpath(path).startswith(osp.realpath(directory) + os.sep)


def _remove_inside(path: str, directory: str, logger) -> None:
    """Removes ``path`` if it lies below ``directory``; a run never deletes
    anything outside its own folders (e.g. another run's best file named in
    a checkpoint it resumed from)."""
    if not _inside(path, directory):
        logger.info(f'Keeping {path}: it lies outside {directory}, and a run '
                    'removes only its own files.')
        return
    if osp.isfile(path):
        os.remove(path)
    elif osp.isdir(path):  # checkpoints saved by deepspeed are folders
        shutil.rmtree(path)


def _point_last_checkpoint(work_dir: str, path: str) -> None:
    atomic_write_text(osp.join(work_dir, LAST_CHECKPOINT), path)


class _DeferredRemovals:
    """Stands in for a file backend and records removals instead of doing
    them (everything else goes to the real backend)."""

    def __init__(self, backend):
        self._backend = backend
        self.paths = []

    def remove(self, path: str) -> None:
        self.paths.append(path)

    rmtree = remove

    def __getattr__(self, name: str):
        return getattr(self._backend, name)


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """Saves checkpoints like mmengine's ``CheckpointHook`` (same arguments,
    same files), but a kill at any instant leaves a work dir to resume from.

    * Every file is written under a temporary name and renamed into place
      when complete (``MoltRunner.save_checkpoint``).
    * A checkpoint beyond ``max_keep_ckpts`` and the previous best file are
      removed only after their successor is complete (mmengine removes them
      first); ``last_checkpoint`` is rewritten, atomically, once the new
      checkpoint is complete and before anything is removed.
    * Only files inside the run's own folders are ever removed: a best file
      of another run, named in a checkpoint resumed with ``--resume
      OTHER_RUN/...``, is kept.
    * Temporary files left by a killed run are removed when training
      starts.
    * :func:`save_on_stop` writes the checkpoint of a run stopped by a
      signal; the next regular checkpoint supersedes (and removes) it.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        # A resumed run re-saves its checkpoint after a new best too (a
        # validation left pending by the checkpoint is then recorded).
        self.last_ckpt = runner.message_hub.get_info('last_ckpt')
        if not is_main_process():
            return
        for path in remove_stale_temporaries(self.out_dir):
            runner.logger.info(f'Removed {path}, left by an interrupted save.')
        best = runner.message_hub.get_info('best_ckpt')
        if best and not _inside(best, self.out_dir):
            runner.logger.info(
                f'The best checkpoint so far, {best}, lies outside this run '
                f'({self.out_dir}): it is kept, and a better one is written '
                'here.')

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        hub = runner.message_hub
        evicted = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                evicted.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        hub.update_info('last_ckpt', self.last_ckpt)
        superseded = hub.get_info('interrupted_ckpt')
        hub.update_info('interrupted_ckpt', None)

        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        _point_last_checkpoint(runner.work_dir, self.last_ckpt)
        for old_step in evicted:
            _remove_inside(
                osp.join(self.out_dir, self.filename_tmpl.format(old_step)),
                self.out_dir, runner.logger)
        if superseded:
            _remove_inside(superseded, runner.work_dir, runner.logger)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        # mmengine's logic, with the removal of the previous best file
        # postponed until the new one (and the epoch checkpoint recording
        # it) is complete.
        backend = self.file_backend
        self.file_backend = deferred = _DeferredRemovals(backend)
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            self.file_backend = backend
        if not is_main_process():
            return
        current = {getattr(self, 'best_ckpt_path', None),
                   *getattr(self, 'best_ckpt_path_dict', {}).values()}
        for path in deferred.paths:
            if path not in current:
                _remove_inside(path, self.out_dir, runner.logger)


def save_on_stop(runner) -> str:
    """Saves a resumable checkpoint of the current training state as
    ``<work_dir>/interrupted_iter_<N>.pth`` and points ``last_checkpoint``
    at it (for a run stopped by a signal).

    Returns:
        The checkpoint's path.
    """
    filename = f'interrupted_iter_{runner.iter}.pth'
    path = osp.join(runner.work_dir, filename)
    hub = runner.message_hub
    previous = hub.get_info('interrupted_ckpt')
    hub.update_info('interrupted_ckpt', path)
    runner.save_checkpoint(
        runner.work_dir, filename,
        meta=dict(epoch=runner.epoch, iter=runner.iter))
    if is_main_process():
        _point_last_checkpoint(runner.work_dir, path)
        if previous and previous != path:
            _remove_inside(previous, runner.work_dir, runner.logger)
    return path
