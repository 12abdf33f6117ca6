"""The AVE timeline: thumbnails of the sampled frames over the per-second
event probabilities, the predicted event shaded."""
import math
import os.path as osp
from typing import List, Sequence, Tuple

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from .render import DPI, figure_to_image

__all__ = [
    'ave_timeline', 'timeline_size', 'thumbnail_step', 'MAX_THUMBNAILS'
]

#: At most this many thumbnails; longer videos show one every k seconds.
MAX_THUMBNAILS = 30
HEIGHT_INCHES = 3.8
BACKGROUND_COLOUR = '#9e9e9e'


def _width_inches(num_seconds: int) -> float:
    return float(np.clip(1.2 + 0.45 * num_seconds, 6.4, 16.0))


def timeline_size(num_seconds: int) -> Tuple[int, int]:
    """``(width, height)`` in pixels of the timeline of a video."""
    return (round(_width_inches(num_seconds) * DPI),
            round(HEIGHT_INCHES * DPI))


def thumbnail_step(num_seconds: int) -> int:
    """Seconds per thumbnail."""
    return max(1, math.ceil(num_seconds / MAX_THUMBNAILS))


def _event_runs(labels: Sequence[int],
                background: int) -> List[Tuple[int, int, int]]:
    """``(start, end, label)`` of each run of equal event labels."""
    runs = []
    for second, label in enumerate(labels):
        if label == background:
            continue
        if runs and runs[-1][1] == second and runs[-1][2] == label:
            runs[-1] = (runs[-1][0], second + 1, label)
        else:
            runs.append((second, second + 1, label))
    return runs


def ave_timeline(result: dict, thumbnails: Sequence[np.ndarray],
                 threshold: float, background: int) -> np.ndarray:
    """Draws an AVE result.

    Top: one thumbnail per second (one every :func:`thumbnail_step`
    seconds for long videos) above the second it shows. Bottom: each
    second's event probability as a bar (grey for background seconds, the
    event's colour for event seconds), the head's threshold dashed; the
    seconds predicted as an event are shaded and named.

    Args:
        result: An AVE result (``seconds``, ``event``, ``video``).
        thumbnails: ``thumbnails[i]`` is the frame of second
            ``i * thumbnail_step(n)``, ``(h, w, 3)`` uint8.
        threshold: Event probability above which a second is an event.
        background: The background label.

    Returns:
        ``(H, W, 3)`` uint8, of :func:`timeline_size`.
    """
    seconds = result['seconds']
    num = len(seconds)
    colours = colormaps['tab10']
    event = result['event']
    fig = Figure(figsize=(_width_inches(num), HEIGHT_INCHES))
    top, bottom = fig.subplots(
        2, 1, sharex=True, gridspec_kw=dict(height_ratios=(1, 2)))
    step = thumbnail_step(num)
    for index, image in enumerate(thumbnails):
        start = index * step
        top.imshow(image, extent=(start, min(start + step, num), 0, 1),
                   aspect='auto')
    top.set_xlim(0, num)
    top.set_ylim(0, 1)
    top.set_yticks([])
    top.set_ylabel('frames')

    labels = [s['label'] for s in seconds]
    probabilities = [s['event_probability'] for s in seconds]
    bar_colours = [
        BACKGROUND_COLOUR if label == background else colours(label % 10)
        for label in labels
    ]
    bottom.bar(np.arange(num) + 0.5, probabilities, width=0.8,
               color=bar_colours, alpha=0.9)
    bottom.axhline(threshold, color='black', linestyle='--', linewidth=1,
                   label=f'threshold {threshold:g}')
    for start, end, label in _event_runs(labels, background):
        bottom.axvspan(start, end, color=colours(label % 10), alpha=0.18)
        bottom.text((start + end) / 2, 1.02, seconds[start]['name'],
                    ha='center', va='bottom', fontsize=8, clip_on=False)
    bottom.set_ylim(0, 1)
    bottom.set_ylabel('P(event)')
    bottom.set_xlabel('second')
    bottom.legend(loc='lower right', fontsize=8)
    num_events = sum(label != background for label in labels)
    fig.suptitle(
        f"{osp.basename(result['video'])}: {event['name']} "
        f"({event['probability']:.0%}), event in {num_events} of {num} s",
        fontsize=10)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.86, bottom=0.13,
                        hspace=0.25)
    return figure_to_image(fig)
