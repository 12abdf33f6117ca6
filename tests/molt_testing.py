"""Helpers shared by molt's test modules.

Imported as ``molt_testing`` (``conftest.py`` puts this folder on
``sys.path``; the test modules themselves are not importable in pytest's
importlib mode).
"""
import importlib.util
import socket
from pathlib import Path
from types import ModuleType
from typing import Callable, List, Sequence, Tuple

import av
import numpy as np
import torch
from timm.models.swin_transformer_v2 import SwinTransformerV2Stage

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


def free_port() -> int:
    """A TCP port that is free now (for a multi-process run's rendezvous)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


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


def open_gates(module, value: float = 0.5) -> None:
    """Sets every zero-initialised adapter gate (parameters named
    ``...gate``) of ``module`` to ``value``, so that the adapters act."""
    import torch
    with torch.no_grad():
        for name, param in module.named_parameters():
            if name.endswith('gate'):
                param.fill_(value)


def demo_dataset_meta(task: str) -> dict:
    """What tools/train.py saves as ``meta['dataset_meta']`` for a demo
    task (``'ave'``, ``'avs'``, ``'avqa'``); AVQA's vocabulary is a tiny
    one: "How many instruments are sounding", "Is the cello playing";
    answers two, yes, no, one."""
    from molt.datasets import AVE_CLASSES, QAVocabulary
    if task == 'ave':
        return dict(classes=AVE_CLASSES, background='background')
    if task == 'avs':
        return dict(classes=('sounding object', ))
    vocabulary = QAVocabulary.build(
        [['How', 'many', 'instruments', 'are', 'sounding'],
         ['Is', 'the', 'cello', 'playing']], ['two', 'yes', 'no', 'one'])
    return dict(
        vocabulary=vocabulary.to_dict(),
        num_answers=vocabulary.num_answers,
        vocab_size=vocabulary.vocab_size)


def write_demo_checkpoint(config: str, path: str, dataset_meta: dict,
                          seed: int = 0) -> str:
    """Saves an untrained model of ``config`` (a repository path, e.g. a
    tiny demo config; random adapters and head, the backbones' pretrained
    files loaded) as a molt checkpoint whose
    ``meta['dataset_meta']`` is ``dataset_meta``; head sizes the config
    leaves None are taken from it."""
    import torch
    from mmengine.config import Config

    from molt.registry import MODELS
    from molt.utils import register_all_modules
    from molt.utils.checkpoint import model_checkpoint_state
    register_all_modules()
    cfg = Config.fromfile(str(REPO / config))
    for key, value in cfg.model.head.items():
        if value is None:
            cfg.model.head[key] = dataset_meta[key]
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()  # the backbones read their pretrained files
    checkpoint = model_checkpoint_state(model)
    checkpoint['meta'] = dict(dataset_meta=dataset_meta)
    torch.save(checkpoint, path)
    return path


def random_post_norms(stage: SwinTransformerV2Stage) -> None:
    """Distinct, non-zero residual post-norms for every block of a stage."""
    for block in stage.blocks:
        for norm in (block.norm1, block.norm2):
            torch.nn.init.uniform_(norm.weight, 0.5, 1.5)
            torch.nn.init.normal_(norm.bias, std=0.1)
