"""Logs how long each training epoch takes."""
import time

from mmengine.hooks import Hook
from mmengine.logging import print_log

from molt.registry import HOOKS

__all__ = ['EpochTimerHook']


@HOOKS.register_module()
class EpochTimerHook(Hook):
    """Logs ``Epoch(train) [N] took S s`` (training iterations and data
    loading, validation excluded) and keeps ``train/epoch_time`` in the
    message hub, so epoch times can be compared across runs (e.g. with and
    without the feature cache)."""

    def before_train_epoch(self, runner) -> None:
        self._start = time.perf_counter()

    def after_train_epoch(self, runner) -> None:
        seconds = time.perf_counter() - self._start
        runner.message_hub.update_scalar('train/epoch_time', seconds)
        print_log(f'Epoch(train) [{runner.epoch + 1}] took {seconds:.2f} s',
                  logger='current')
