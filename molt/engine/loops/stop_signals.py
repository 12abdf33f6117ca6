"""SIGTERM and SIGINT as requests to stop training cleanly.

SLURM, ``timeout`` and ``docker stop`` send SIGTERM, Ctrl-C sends SIGINT
(SLURM and a terminal send them to every process of the job, data workers
included). While training, the main process turns the first of them into
a request that the train loop honours at the next iteration boundary,
after saving a resumable checkpoint; a second signal has its usual effect
at once. While the main process trains, data workers ignore both, so they
keep delivering the batches the last iteration needs; outside training
(e.g. when the interpreter exits and terminates them) they stop as usual.
"""
import ctypes
import functools
import multiprocessing
import os
import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

__all__ = ['STOP_SIGNALS', 'stop_requests', 'IgnoreStopSignals',
           'TrainingInterrupted']

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TrainingInterrupted(RuntimeError):
    """Training stopped on a signal after saving a resumable checkpoint.

    Attributes:
        signum: The signal.
        checkpoint: The checkpoint saved just before stopping.
        exit_code: ``128 + signum``, the shell's convention.
    """

    def __init__(self, signum: int, checkpoint: Optional[str]):
        self.signum = signum
        self.checkpoint = checkpoint
        self.exit_code = 128 + signum
        super().__init__(
            f'Training stopped on {signal.Signals(signum).name}; resumable '
            f'checkpoint: {checkpoint}.')


# Shared with the data workers (inherited on fork, handed over on spawn):
# whether the main process is training and handles stop signals itself.
_TRAINING = None


def _training_flag():
    global _TRAINING
    if _TRAINING is None:
        _TRAINING = multiprocessing.RawValue(ctypes.c_bool, False)
    return _TRAINING


@contextmanager
def stop_requests(on_request: Callable[[int], None]) -> Iterator[None]:
    """Within the body, SIGINT/SIGTERM call ``on_request(signum)`` instead
    of stopping the process, and data workers ignore them; the handlers are
    removed again after the first signal (so a second one acts at once) and
    on exit.

    Does nothing outside the main thread (Python delivers signals there
    only).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    training = _training_flag()

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def handle(signum, frame) -> None:
        restore()
        on_request(signum)

    for signum in STOP_SIGNALS:
        signal.signal(signum, handle)
    training.value = True
    try:
        yield
    finally:
        training.value = False
        restore()


def _worker_stop_signal(training, signum, frame) -> None:
    if training.value:
        return  # the main process stops the workers when it is ready
    # The usual effect: SIGTERM ends the worker, SIGINT raises
    # KeyboardInterrupt (which torch's worker loop turns into an exit).
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


class IgnoreStopSignals:
    """A data loader's ``worker_init_fn`` wrapper: while the main process
    trains, the worker ignores SIGINT/SIGTERM (the main process decides
    when to stop); then the wrapped function runs.

    Args:
        init_fn: The wrapped ``worker_init_fn`` (or None).
    """

    def __init__(self, init_fn: Optional[Callable[[int], None]] = None):
        self.init_fn = init_fn
        self.training = _training_flag()

    def __call__(self, worker_id: int) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, functools.partial(_worker_stop_signal,
                                                    self.training))
        if self.init_fn is not None:
            self.init_fn(worker_id)
