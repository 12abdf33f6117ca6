"""How a command-line tool ends: data workers shut down, molt's message
last.

A tool that stops on an exception (a damaged frame, a killed process of a
multi-process run) or on ``SystemExit`` (training stopped by SIGTERM) keeps
its runner, and so its data loaders, alive through the traceback; at
interpreter exit ``multiprocessing`` then terminates their workers and
torch reports each as "killed by signal", *after* molt's own message.
:func:`run_tool` frees the runner first, so the loaders shut their workers
down themselves, and only then prints the error.
"""
import gc
import sys
import traceback
from typing import Callable

__all__ = ['run_tool', 'release_finished_runners']


def release_finished_runners() -> None:
    """Frees runners that are no longer referenced, now.

    A Runner and its loops reference each other, so a finished runner lives
    until the garbage collector runs; at interpreter exit that is after
    multiprocessing has terminated the persistent data workers of its
    loaders. Collecting it here lets the loaders stop their workers
    cleanly.
    """
    gc.collect()


def _forget_frames(error: BaseException) -> None:
    """Drops the tracebacks of ``error`` and the exceptions it chains, so
    the frames (and the runner their locals hold) can be freed."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        error.__traceback__ = None
        error = error.__cause__ or error.__context__


def run_tool(main: Callable[[], object]) -> None:
    """Runs a tool's ``main()`` and ends the process the way a user should
    see it end.

    * Success: runners are released (:func:`release_finished_runners`).
    * ``SystemExit`` (e.g. training stopped by a signal, its resume hint
      already printed): runners released, then the same exit status or
      message.
    * Any other exception: its traceback is formatted, runners are
      released, and the traceback is printed last; exit status 1 (130 for
      Ctrl-C).
    """
    try:
        main()
    except SystemExit as stop:
        code = stop.code
        _forget_frames(stop)
        del stop
        release_finished_runners()
        raise SystemExit(code) from None
    except BaseException as error:  # noqa: B902 (report every failure)
        text = ''.join(
            traceback.format_exception(type(error), error,
                                       error.__traceback__))
        code = 130 if isinstance(error, KeyboardInterrupt) else 1
        _forget_frames(error)
        del error
        release_finished_runners()
        sys.stderr.write(text)
        sys.stderr.flush()
        raise SystemExit(code) from None
    release_finished_runners()
