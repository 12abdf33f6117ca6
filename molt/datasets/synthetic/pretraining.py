"""A synthetic pretraining world: an ImageNet and an AudioSet of its own.

The tiny encoders of the demos are pretrained on this world before they are
frozen, as Swin-V2-L is pretrained on ImageNet-22k and HTS-AT on AudioSet.
It is separate from the task sets (:mod:`.ave`, :mod:`.avs`, :mod:`.avqa`)
and its labels are generic, never a task's (no sounding object, no event,
no question or answer):

* **Frames** show 0-4 objects, each a random shape (:data:`SHAPES`) in a
  random colour (:data:`COLOURS`, jittered) of random size (radius 1/12 to
  1/4 of the frame) at a random place, painted in turn so that later objects may hide earlier ones, over
  clutter: a grey background with a gradient and pixel noise, thin lines
  and specks in unsaturated colours. Labels: for each cell of a coarse
  ``grid x grid`` partition of the frame, which shapes and which colours
  are visible in it (:data:`OBJECT_CLASSES`, multi-label).
* **Clips** play 0-3 sound events (:data:`SOUND_CLASSES`: pure tones in
  eleven frequency bands, white noise, rumble, hiss, clicks, a chirp), each
  over the whole clip or a part of it, with silence elsewhere, over a faint
  background noise. Labels: which sound classes play (multi-label).

Everything is drawn in memory and deterministically: sample ``i`` of a
split uses its own generator seeded with ``(seed, split, modality, i)``, so
any slice of any split can be drawn on its own and always comes out the
same. :class:`WorldBatches` serves a split as a torch dataset of batches,
for data-loader workers.
"""
import math
from typing import List, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import Dataset

from .common import COLORS, draw_shape

__all__ = ['SHAPES', 'COLOURS', 'OBJECT_CLASSES', 'TONE_BANDS',
           'SOUND_CLASSES', 'SPLITS', 'PretrainingWorld', 'WorldBatches',
           'draw_scene', 'draw_clip']

SHAPES = ('square', 'disk', 'triangle', 'diamond', 'ring', 'cross')
#: ``(name, RGB)``: the task sets' six colours and two more.
COLOURS = tuple(
    zip(('red', 'green', 'blue', 'yellow', 'magenta', 'cyan'), COLORS)) + (
        ('orange', (245, 140, 30)), ('white', (240, 240, 240)))
OBJECT_CLASSES = SHAPES + tuple(name for name, _ in COLOURS)
#: Centres (Hz) of the tone classes, half an octave apart; a tone of class
#: ``k`` is drawn within 9 % of ``TONE_BANDS[k]``.
TONE_BANDS = tuple(250.0 * 2**(k / 2) for k in range(11))
NOISES = ('white_noise', 'rumble', 'hiss', 'clicks', 'chirp')
SOUND_CLASSES = tuple(f'tone_{f:.0f}hz' for f in TONE_BANDS) + NOISES
SPLITS = ('train', 'val', 'probe')
_MODALITIES = ('frame', 'clip')
_FADE_SECONDS = 0.01


def _sample_rng(seed: int, split: str, modality: str,
                index: int) -> np.random.Generator:
    if split not in SPLITS:
        raise ValueError(f'unknown split {split!r}; choose from {SPLITS}')
    return np.random.default_rng(
        [seed, SPLITS.index(split), _MODALITIES.index(modality), index])


# -- frames --------------------------------------------------------------
def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Grey with a slight tint, a linear gradient and pixel noise, as a
    float ``(size, size, 3)`` array."""
    rows, cols = np.mgrid[:size, :size] / max(size - 1, 1) - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    gradient = rng.uniform(0, 40) * (np.cos(angle) * rows +
                                     np.sin(angle) * cols)
    level = rng.uniform(80, 150) + rng.uniform(-10, 10, 3)
    noise = rng.normal(0, rng.uniform(4, 14), (size, size, 3))
    return level + gradient[..., None] + noise


def _clutter(rng: np.random.Generator, frame: np.ndarray) -> None:
    """Thin lines and specks in unsaturated colours, unlabelled."""
    size = frame.shape[0]

    def dull() -> np.ndarray:
        return rng.uniform(50, 180) + rng.uniform(-25, 25, 3)

    for _ in range(int(rng.integers(1, 6))):
        (y0, x0), (y1, x1) = rng.uniform(0, size - 1, (2, 2))
        steps = int(max(abs(y1 - y0), abs(x1 - x0))) + 1
        ys = np.rint(np.linspace(y0, y1, steps)).astype(int)
        xs = np.rint(np.linspace(x0, x1, steps)).astype(int)
        frame[ys, xs] = dull()
    for _ in range(int(rng.integers(3, 16))):
        y, x = rng.integers(0, size - 1, 2)
        frame[y:y + 2, x:x + 2] = dull()


def draw_scene(rng: np.random.Generator, size: int, grid: int,
               min_fraction: float = 0.015) -> Tuple[np.ndarray, np.ndarray]:
    """One cluttered frame with 0-4 objects and its labels.

    Args:
        rng: Random generator (consumed).
        size: Side of the square frame (divisible by ``grid``).
        grid: Cells per side of the label partition.
        min_fraction: A class is present in a cell when at least this
            fraction of the cell shows it.

    Returns:
        The RGB frame ``(size, size, 3)`` uint8 and the labels
        ``(grid * grid, len(OBJECT_CLASSES))`` bool, cells in row-major
        order, shapes first then colours.
    """
    if size % grid:
        raise ValueError(f'frame size {size} is not divisible by grid {grid}')
    frame = _background(rng, size)
    _clutter(rng, frame)
    owner = np.full((size, size), -1)
    objects: List[Tuple[int, int]] = []
    for index in range(int(rng.integers(0, 5))):
        shape, colour = (int(rng.integers(len(SHAPES))),
                         int(rng.integers(len(COLOURS))))
        radius = int(rng.integers(size // 12, size // 4 + 1))
        centre = tuple(int(x) for x in rng.integers(radius, size - radius, 2))
        rgb = np.clip(
            np.array(COLOURS[colour][1]) + rng.integers(-15, 16, 3), 0, 255)
        owner[draw_shape(frame, SHAPES[shape], rgb, centre, radius)] = index
        objects.append((shape, colour))
    cell = size // grid
    pixels = np.zeros((grid * grid, len(OBJECT_CLASSES)))
    for index, (shape, colour) in enumerate(objects):
        visible = (owner == index).reshape(grid, cell, grid, cell).sum((1, 3))
        pixels[:, [shape, len(SHAPES) + colour]] += visible.reshape(-1, 1)
    labels = pixels >= min_fraction * cell * cell
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8), labels


# -- clips ---------------------------------------------------------------
def _unit_rms(wave: np.ndarray) -> np.ndarray:
    return wave / max(float(np.sqrt(np.mean(wave**2))), 1e-12)


def _band_noise(rng: np.random.Generator, num_samples: int, sample_rate: int,
                low: float, high: float) -> np.ndarray:
    """Gaussian noise limited to ``[low, high)`` Hz, unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(num_samples))
    frequencies = np.fft.rfftfreq(num_samples, 1 / sample_rate)
    spectrum[(frequencies < low) | (frequencies >= high)] = 0
    return _unit_rms(np.fft.irfft(spectrum, num_samples))


def _event(rng: np.random.Generator, kind: int, num_samples: int,
           sample_rate: int) -> np.ndarray:
    """The waveform of sound class ``kind`` at unit scale (tones and
    noises: RMS ``1/sqrt(2)``, like a unit sine; clicks: peak 3, as they
    are short)."""
    t = np.arange(num_samples) / sample_rate
    if kind < len(TONE_BANDS):
        frequency = TONE_BANDS[kind] * rng.uniform(0.91, 1.09)
        return np.sin(2 * np.pi * frequency * t + rng.uniform(0, 2 * np.pi))
    name = NOISES[kind - len(TONE_BANDS)]
    nyquist = sample_rate / 2
    if name == 'chirp':
        while True:
            f0, f1 = np.exp(rng.uniform(np.log(300), np.log(6000), 2))
            if abs(np.log2(f1 / f0)) >= 1:
                break
        duration = num_samples / sample_rate
        rate = np.log(f1 / f0) / duration
        return np.sin(2 * np.pi * f0 * np.expm1(rate * t) / rate)
    if name == 'clicks':
        kernel_t = np.arange(int(0.003 * sample_rate)) / sample_rate
        kernel = rng.standard_normal(kernel_t.size) * np.exp(-kernel_t / 7e-4)
        period = sample_rate / rng.uniform(8, 25)
        train = np.zeros(num_samples)
        train[np.arange(rng.uniform(0, period), num_samples,
                        period).astype(int)] = 1
        wave = np.convolve(train, kernel)[:num_samples]
        return 3 * wave / max(float(np.abs(wave).max()), 1e-12)
    low, high = dict(white_noise=(0, nyquist), rumble=(20, 400),
                     hiss=(5000, nyquist))[name]
    return _band_noise(rng, num_samples, sample_rate, low, high) / np.sqrt(2)


def _envelope(rng: np.random.Generator, num_samples: int,
              sample_rate: int) -> np.ndarray:
    """1 over the event's span (the whole clip, or at least a quarter of
    it), 0 elsewhere, with 10 ms raised-cosine fades."""
    envelope = np.zeros(num_samples)
    if rng.random() < 0.4:
        start, stop = 0, num_samples
    else:
        length = int(rng.uniform(0.25, 0.8) * num_samples)
        start = int(rng.integers(0, num_samples - length + 1))
        stop = start + length
    envelope[start:stop] = 1
    fade = min(int(_FADE_SECONDS * sample_rate), (stop - start) // 2)
    if fade:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
        if start > 0:
            envelope[start:start + fade] = ramp
        if stop < num_samples:
            envelope[stop - fade:stop] = ramp[::-1]
    return envelope


def draw_clip(rng: np.random.Generator, sample_rate: int,
              seconds: float) -> Tuple[np.ndarray, np.ndarray]:
    """One clip of 0-3 sound events over faint background noise.

    Tone amplitudes are log-uniform in [0.05, 0.4] (the task sets use 0.2
    and 0.3), noise-like events in [0.08, 0.4] (RMS from 0.057), the
    background noise's RMS in [0.001, 0.03] (the task sets use 0.03).

    Args:
        rng: Random generator (consumed).
        sample_rate: Samples per second.
        seconds: Clip length.

    Returns:
        The waveform ``(samples,)`` float32 in [-1, 1] and the labels
        ``(len(SOUND_CLASSES),)`` bool.
    """
    num_samples = int(round(seconds * sample_rate))
    wave = np.exp(rng.uniform(np.log(1e-3), np.log(0.03))) * (
        rng.standard_normal(num_samples))
    labels = np.zeros(len(SOUND_CLASSES), bool)
    kinds = rng.choice(len(SOUND_CLASSES), int(rng.integers(0, 4)),
                       replace=False)
    for kind in sorted(int(k) for k in kinds):
        lowest = 0.05 if kind < len(TONE_BANDS) else 0.08
        amplitude = np.exp(rng.uniform(np.log(lowest), np.log(0.4)))
        envelope = _envelope(rng, num_samples, sample_rate)
        wave += amplitude * envelope * _event(rng, kind, num_samples,
                                              sample_rate)
        labels[kind] = True
    return np.clip(wave, -1, 1).astype(np.float32), labels


# -- the world -----------------------------------------------------------
class PretrainingWorld:
    """Draws batches of the pretraining world (see the module docstring).

    Args:
        seed: Seed of the whole world.
        frame_size: Side of the square frames (the visual encoder's input).
        grid: Cells per side of the frame labels (the visual encoder's last
            token grid, so that each last token has the labels of its cell).
        sample_rate: Audio rate (the audio encoder's).
        clip_seconds: Clip length (the audio encoder's).
    """

    def __init__(self,
                 seed: int = 0,
                 frame_size: int = 64,
                 grid: int = 2,
                 sample_rate: int = 32000,
                 clip_seconds: float = 1.0):
        self.seed = seed
        self.frame_size = frame_size
        self.grid = grid
        self.sample_rate = sample_rate
        self.clip_seconds = clip_seconds

    def frames(self, split: str, indices: Sequence[int]
               ) -> Tuple[np.ndarray, np.ndarray]:
        """Frames ``indices`` of ``split``.

        Returns:
            ``(N, frame_size, frame_size, 3)`` uint8 RGB frames and
            ``(N, grid * grid, len(OBJECT_CLASSES))`` bool labels.
        """
        scenes = [
            draw_scene(_sample_rng(self.seed, split, 'frame', i),
                       self.frame_size, self.grid) for i in indices
        ]
        return (np.stack([s[0] for s in scenes]),
                np.stack([s[1] for s in scenes]))

    def clips(self, split: str, indices: Sequence[int]
              ) -> Tuple[np.ndarray, np.ndarray]:
        """Clips ``indices`` of ``split``.

        Returns:
            ``(N, samples)`` float32 waveforms and
            ``(N, len(SOUND_CLASSES))`` bool labels.
        """
        clips = [
            draw_clip(_sample_rng(self.seed, split, 'clip', i),
                      self.sample_rate, self.clip_seconds) for i in indices
        ]
        return (np.stack([c[0] for c in clips]),
                np.stack([c[1] for c in clips]))


class WorldBatches(Dataset):
    """The first ``count`` frames or clips of a split as a dataset of
    batches: item ``i`` holds samples ``[i * size, (i + 1) * size)`` (the
    last batch cut at ``count``) as tensors, whichever process draws it.

    Args:
        world: The world to draw from.
        modality: ``'frames'`` or ``'clips'``.
        split: One of :data:`SPLITS`.
        size: Samples per batch.
        count: Samples in all.
    """

    def __init__(self, world: PretrainingWorld, modality: str, split: str,
                 size: int, count: int):
        if modality not in ('frames', 'clips'):
            raise ValueError(f"modality must be 'frames' or 'clips', got "
                             f'{modality!r}')
        self.draw = getattr(world, modality)
        self.split, self.size, self.count = split, size, count

    def __len__(self) -> int:
        return math.ceil(self.count / self.size)

    def __getitem__(self, index: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """Frames ``(B, H, W, 3)`` uint8 or clips ``(B, samples)`` float32,
        and their labels as float 0/1."""
        if not 0 <= index < len(self):
            raise IndexError(index)
        first = index * self.size
        inputs, labels = self.draw(
            self.split, range(first, min(first + self.size, self.count)))
        return torch.from_numpy(inputs), torch.from_numpy(labels).float()
