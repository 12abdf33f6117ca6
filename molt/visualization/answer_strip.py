"""AVQA: the frames the model saw, with the question and its answers."""
import os.path as osp
from typing import Sequence, Tuple

import numpy as np
from matplotlib.figure import Figure

from .render import DPI, figure_to_image

__all__ = ['answer_strip', 'strip_size']

WIDTH_INCHES, HEIGHT_INCHES = 10.0, 3.0


def strip_size() -> Tuple[int, int]:
    """``(width, height)`` in pixels of an answer strip."""
    return round(WIDTH_INCHES * DPI), round(HEIGHT_INCHES * DPI)


def answer_strip(result: dict, frames: Sequence[np.ndarray]) -> np.ndarray:
    """Draws an AVQA result: the sampled frames in a row (their seconds
    below; a star marks a second past the video's end, which shows its
    last frame), the question above, the answer and the top-k below.

    Args:
        result: An AVQA result (``seconds``, ``question``, ``answer``,
            ``probability``, ``topk``, ``num_seconds``, ``video``).
        frames: The frame of each sampled second, ``(h, w, 3)`` uint8.

    Returns:
        ``(H, W, 3)`` uint8, of :func:`strip_size`.
    """
    fig = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES))
    axes = fig.subplots(1, len(frames), squeeze=False)[0]
    last = result['num_seconds'] - 1
    for ax, second, image in zip(axes, result['seconds'], frames):
        ax.imshow(image)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f'{second} s' + ('*' if second > last else ''),
                      fontsize=8)
    fig.suptitle(f"{osp.basename(result['video'])}: {result['question']}",
                 fontsize=11)
    ranked = ', '.join(f"{entry['name']} {entry['probability']:.0%}"
                       for entry in result['topk'])
    footer = (f"Answer: {result['answer']} ({result['probability']:.0%})"
              f'    top {len(result["topk"])}: {ranked}')
    if any(second > last for second in result['seconds']):
        footer += '\n* past the end of the video: its last second repeated'
    fig.text(0.5, 0.04, footer, ha='center', va='bottom', fontsize=9)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.85, bottom=0.3,
                        wspace=0.05)
    return figure_to_image(fig)
