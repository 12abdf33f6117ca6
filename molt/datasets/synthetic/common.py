"""Drawing and sound primitives for the synthetic datasets."""
import os
import os.path as osp
from typing import Sequence, Tuple

import mmcv
import numpy as np
import soundfile

__all__ = ['COLORS', 'TONES', 'blank_frame', 'draw_shape', 'tone', 'noise',
           'write_frame', 'write_wav']

#: One colour and one tone frequency per synthetic class.
COLORS: Tuple[Tuple[int, int, int], ...] = ((230, 40, 40), (40, 200, 60),
                                            (50, 80, 230), (235, 215, 40),
                                            (200, 60, 220), (40, 210, 220))
TONES: Tuple[float, ...] = (330.0, 660.0, 1320.0, 2640.0, 5280.0, 990.0)


def blank_frame(rng: np.random.Generator, size: int) -> np.ndarray:
    """A grey, slightly noisy ``(size, size, 3)`` uint8 background."""
    frame = rng.normal(110, 12, (size, size, 3))
    return np.clip(frame, 0, 255).astype(np.uint8)


def draw_shape(frame: np.ndarray, shape: str, color: Sequence[int],
               center: Tuple[int, int], radius: int) -> np.ndarray:
    """Draws a filled ``'square'``, ``'disk'``, ``'triangle'``,
    ``'diamond'``, ``'ring'`` or ``'cross'``; returns the boolean mask of its
    pixels."""
    height, width = frame.shape[:2]
    rows, cols = np.mgrid[:height, :width]
    dy, dx = rows - center[0], cols - center[1]
    if shape == 'square':
        mask = (np.abs(dy) <= radius) & (np.abs(dx) <= radius)
    elif shape == 'disk':
        mask = dy**2 + dx**2 <= radius**2
    elif shape == 'triangle':
        mask = (dy <= radius) & (dy >= -radius) & (
            np.abs(dx) <= (dy + radius) / 2)
    elif shape == 'diamond':
        mask = np.abs(dy) + np.abs(dx) <= radius
    elif shape == 'ring':
        distance = dy**2 + dx**2
        mask = (distance <= radius**2) & (distance >= (0.55 * radius)**2)
    elif shape == 'cross':
        arm = radius / 3
        mask = (((np.abs(dy) <= arm) & (np.abs(dx) <= radius)) |
                ((np.abs(dx) <= arm) & (np.abs(dy) <= radius)))
    else:
        raise ValueError(f'unknown shape {shape!r}')
    frame[mask] = color
    return mask


def tone(frequency: float, seconds: float, sample_rate: int,
         rng: np.random.Generator, amplitude: float = 0.3) -> np.ndarray:
    """A sine tone with a random phase."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    phase = rng.uniform(0, 2 * np.pi)
    return amplitude * np.sin(2 * np.pi * frequency * t + phase)


def noise(seconds: float, sample_rate: int, rng: np.random.Generator,
          amplitude: float = 0.03) -> np.ndarray:
    """White noise."""
    return amplitude * rng.standard_normal(int(round(seconds * sample_rate)))


def write_frame(path: str, frame: np.ndarray) -> None:
    """Writes an RGB frame as JPEG (quality 95), creating folders."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    mmcv.imwrite(frame[..., ::-1], path, params=[1, 95])  # cv2 wants BGR


def write_wav(path: str, wave: np.ndarray, sample_rate: int) -> None:
    """Writes a mono 16-bit PCM wav, creating folders."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    soundfile.write(path, np.clip(wave, -1, 1), sample_rate, subtype='PCM_16')
