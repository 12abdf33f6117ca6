"""Covering a video of any length with the fixed-length samples a model
was trained on (AVE: 10 s, AVSBench: 5 s).

Policy:

* **Short videos** (up to one window): one window from second 0. The
  seconds past the video's end repeat its last second (frames and audio),
  as the datasets do for their short videos; results are reported for the
  video's own seconds only.
* **Longer videos**: windows start every ``length - overlap`` seconds;
  the last one is moved back to end with the video, so every window holds
  real content only (a 25 s video with 10 s windows: 0-10, 10-20, 15-25).
* **Overlaps are merged** by taking each second from the window in which
  it lies most centrally (most context on both sides; the earlier window
  on a tie). Nothing is averaged, so every reported second is a
  prediction the model made as it makes it in ``tools/test.py``.
"""
from typing import List, Tuple

__all__ = ['plan_windows', 'assign_seconds', 'window_seconds']


def plan_windows(num_seconds: int, length: int, overlap: int = 0) -> List[int]:
    """Start seconds of the windows covering ``num_seconds``.

    Args:
        num_seconds: Seconds of the video (at least 1).
        length: Seconds per window.
        overlap: Seconds shared by consecutive windows, ``0 <= overlap <
            length``.
    """
    if not 0 <= overlap < length:
        raise ValueError(f'The window overlap must lie in 0..{length - 1} '
                         f'seconds (windows of {length} s), got {overlap}.')
    if num_seconds <= length:
        return [0]
    last = num_seconds - length
    starts = list(range(0, last + 1, length - overlap))
    if starts[-1] != last:
        starts.append(last)
    return starts


def window_seconds(start: int, length: int) -> List[int]:
    """The seconds a window starting at ``start`` reads."""
    return list(range(start, start + length))


def assign_seconds(starts: List[int], length: int,
                   num_seconds: int) -> List[Tuple[int, int]]:
    """For every second of the video, the window that reports it.

    Returns:
        ``[(window index, position in that window)]``, one per second: the
        window whose centre is nearest (the earlier on a tie).
    """
    centre = (length - 1) / 2
    owners = []
    for second in range(num_seconds):
        candidates = [(abs(second - start - centre), index)
                      for index, start in enumerate(starts)
                      if start <= second < start + length]
        _, index = min(candidates)
        owners.append((index, second - starts[index]))
    return owners
