"""Data problems a run accepted, logged when found and summed up at its
end.

A dataset that accepts an irregular sample (a video whose frames end
before its audio, a question none of whose words the model knows) logs a
WARNING naming the samples when it is built, which scrolls away in a long
run's log. :func:`report_data_issue` also keeps a one-line summary, and
``tools/train.py`` and ``tools/test.py`` print every summary again when
they end (:func:`format_data_issues`).
"""
import logging
import sys
from typing import List, TextIO

from mmengine.logging import print_log

__all__ = ['report_data_issue', 'data_issues', 'format_data_issues',
           'print_data_issues']

_SUMMARIES: List[str] = []
_LOGGED: set = set()


def report_data_issue(summary: str, details: str = '') -> None:
    """Logs a data problem as a WARNING and keeps its summary for the end
    of the run; a repeat (a dataset built twice) is neither logged nor
    kept again.

    Args:
        summary: One line: the file, the count, what was done.
        details: More lines for the log (e.g. the samples, by id).
    """
    message = f'{summary}\n  {details}' if details else summary
    if message in _LOGGED:
        return
    _LOGGED.add(message)
    _SUMMARIES.append(summary)
    print_log(message, logger='current', level=logging.WARNING)


def data_issues() -> List[str]:
    """The summaries reported so far in this process."""
    return list(_SUMMARIES)


def format_data_issues() -> str:
    """The end-of-run summary of :func:`data_issues` ('' when none)."""
    if not _SUMMARIES:
        return ''
    lines = '\n'.join(f'  - {summary}' for summary in _SUMMARIES)
    return (f'Data problems this run accepted ({len(_SUMMARIES)}; details '
            f'in the log):\n{lines}')


def print_data_issues(file: TextIO = sys.stderr) -> None:
    """Prints :func:`format_data_issues` unless there is nothing to say
    (the tools call it as they end)."""
    summary = format_data_issues()
    if summary:
        print(summary, file=file)
