"""The end-of-run summary of an inference over many videos."""
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

__all__ = ['InferenceSummary']


@dataclass
class InferenceSummary:
    """Counts finished and failed videos while outcomes arrive.

    Attributes:
        done: Paths of the videos with a result.
        failed: ``(path, reason)`` of the videos that failed.
        with_notes: Paths of finished videos whose result has notes.
        ignored: Files of input folders that are not videos by name.
    """
    done: List[str] = field(default_factory=list)
    failed: List[Tuple[str, str]] = field(default_factory=list)
    with_notes: List[str] = field(default_factory=list)
    ignored: List[str] = field(default_factory=list)

    def add(self, result: dict) -> None:
        """Records one video's result."""
        if result['status'] == 'failed':
            self.failed.append((result['video'], result['error']))
            return
        self.done.append(result['video'])
        if result.get('notes'):
            self.with_notes.append(result['video'])

    def format(self, out_dir: Optional[str] = None) -> str:
        """The summary: one line of counts and where the outputs are, then
        the failed videos with their reasons."""
        total = len(self.done) + len(self.failed)
        line = (f'{total} video(s): {len(self.done)} done, '
                f'{len(self.failed)} failed')
        if self.with_notes:
            line += (f'; {len(self.with_notes)} with notes (see "notes" in '
                     'their result.json)')
        if out_dir:
            line += f'. Outputs: {out_dir}/<video name>/'
        lines = [line]
        if self.ignored:
            lines.append(f'Not videos by their ending, left out: '
                         f'{", ".join(self.ignored)}')
        if self.failed:
            lines.append('Failed videos:')
            lines += [f'  {path}: {reason}' for path, reason in self.failed]
        return '\n'.join(lines)
