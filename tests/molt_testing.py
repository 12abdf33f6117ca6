"""Helpers shared by molt's test modules.

Imported as ``molt_testing`` (``conftest.py`` puts this folder on
``sys.path``; the test modules themselves are not importable in pytest's
importlib mode).
"""
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Callable, List, Sequence, Tuple

import av
import numpy as np

REPO = Path(__file__).resolve().parents[1]

PALETTE = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0))
TONE_HZ = 1000
INPUT_RATE = 48000


def load_script(relative_path: str) -> ModuleType:
    """Imports a script of the repository (e.g. ``'tools/train.py'``) so
    that its ``main(argv)`` can run in-process."""
    path = REPO / relative_path
    name = 'molt_script_' + path.with_suffix('').as_posix().replace(
        '/', '_').replace('.', '_')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def runner_options(data_root: str, max_epochs: int,
                   batch_size: int = 4) -> List[str]:
    """``--cfg-options`` that point a demo config at ``data_root`` and keep
    the run small and single-process."""
    opts = [f'train_cfg.max_epochs={max_epochs}']
    for split in ('train', 'val', 'test'):
        opts += [
            f'{split}_dataloader.dataset.data_root={data_root}',
            f'{split}_dataloader.batch_size={batch_size}',
            f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False',
        ]
    return ['--cfg-options'] + opts


def second_colour(index: int, fps: int) -> Tuple[int, int, int]:
    """A new palette colour every second."""
    return PALETTE[int(index / fps) % len(PALETTE)]


def write_test_video(path: str,
                     seconds: float = 3.6,
                     fps: int = 25,
                     size: Tuple[int, int] = (64, 48),
                     audio: bool = True,
                     colour: Callable[[int, int], Sequence[int]] = (
                         second_colour)) -> str:
    """Writes an h264 mp4 (+ stereo 48 kHz AAC sine tone) of flat frames.

    Args:
        path: Output file.
        seconds: Video (and audio) length.
        fps: Frame rate.
        size: (width, height).
        audio: Add the audio stream.
        colour: ``colour(frame_index, fps)`` gives the RGB of each frame.
    """
    width, height = size
    with av.open(path, 'w') as container:
        video = container.add_stream('libx264', rate=fps)
        video.width, video.height, video.pix_fmt = width, height, 'yuv420p'
        if audio:
            sound = container.add_stream('aac', rate=INPUT_RATE)
            sound.layout = 'stereo'
        for index in range(round(seconds * fps)):
            image = np.empty((height, width, 3), np.uint8)
            image[:] = colour(index, fps)
            frame = av.VideoFrame.from_ndarray(image, format='rgb24')
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode())
        if audio:
            total = round(seconds * INPUT_RATE)
            for start in range(0, total, 1024):
                t = np.arange(start, min(start + 1024, total)) / INPUT_RATE
                wave = (0.5 * np.sin(2 * np.pi * TONE_HZ * t)).astype(
                    np.float32)
                frame = av.AudioFrame.from_ndarray(
                    np.stack([wave, wave]), format='fltp', layout='stereo')
                frame.sample_rate, frame.pts = INPUT_RATE, start
                container.mux(sound.encode(frame))
            container.mux(sound.encode())
    return path


def write_corrupt_video(path: str) -> str:
    """Random bytes with an .mp4 name."""
    with open(path, 'wb') as f:
        f.write(np.random.default_rng(0).bytes(4096))
    return path
