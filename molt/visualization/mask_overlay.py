"""AVS: a predicted mask drawn over its frame."""
from typing import Tuple

import numpy as np
from PIL import Image

__all__ = ['overlay_mask']


def overlay_mask(frame: np.ndarray,
                 mask: np.ndarray,
                 color: Tuple[int, int, int] = (220, 20, 60),
                 alpha: float = 0.5) -> np.ndarray:
    """Tints the masked pixels of ``frame`` and outlines the mask.

    Args:
        frame: ``(h, w, 3)`` uint8 RGB.
        mask: ``(H, W)`` bool at any size (resized to the frame, nearest).
        color: RGB of the tint and the outline.
        alpha: Opacity of the tint.

    Returns:
        ``(h, w, 3)`` uint8, the size of ``frame``.
    """
    height, width = frame.shape[:2]
    if mask.shape != (height, width):
        mask = np.asarray(
            Image.fromarray(mask.astype(np.uint8) * 255).resize(
                (width, height), Image.Resampling.NEAREST)) > 127
    out = frame.astype(np.float32)
    tint = np.asarray(color, np.float32)
    out[mask] = (1 - alpha) * out[mask] + alpha * tint
    # The outline: mask pixels with a 4-neighbour outside the mask.
    padded = np.pad(mask, 1)
    inner = (padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2]
             & padded[1:-1, 2:])
    out[mask & ~inner] = tint
    return out.round().astype(np.uint8)
