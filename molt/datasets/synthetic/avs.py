"""A small AVSBench-S4-layout dataset where only the audio says which
object sounds.

Each frame shows 2 or 3 shapes of different types (square, disk,
triangle; type ``k`` has colour ``COLORS[k]``) at random sizes and places.
Each video has one sounding type, present in every frame, and its audio
is that type's tone (``TONES[k]``). The mask covers the sounding shape.
Since every frame also shows other shapes, the picture alone cannot tell
which one to segment: :func:`baselines` scores two audio-blind answers
(every shape, the largest shape) for comparison.

Like the release, the train split has the first frame's mask only and the
csv's ``category`` is the sounding type.
"""
import csv
import json
import os.path as osp
from typing import Dict, List, Tuple

import mmcv
import numpy as np
import torch
from tqdm import tqdm

from molt.evaluation.functional import avs_fscore, avs_jaccard
from ..avsbench import AVS_LAYOUTS, NUM_FRAMES
from .common import (COLORS, TONES, blank_frame, draw_shape, noise, tone,
                     write_wav)

__all__ = ['make_avs_s4', 'baselines']

SHAPES = ('square', 'disk', 'triangle')
SPLITS = ('train', 'val', 'test')


def _place(rng: np.random.Generator, radii: List[int],
           size: int) -> List[Tuple[int, int]]:
    """Centres such that the shapes' boxes do not touch (retries until
    they fit)."""
    while True:
        centres = [
            tuple(int(x) for x in rng.integers(r, size - r, 2)) for r in radii
        ]
        if all(
                max(abs(a[0] - b[0]), abs(a[1] - b[1])) > ra + rb + 1
                for i, (a, ra) in enumerate(zip(centres, radii))
                for b, rb in zip(centres[i + 1:], radii[i + 1:])):
            return centres


def _render_frame(rng: np.random.Generator, sounding: int,
                  size: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One frame with the sounding shape and 1-2 others.

    Returns:
        The RGB frame, the sounding shape's mask and the masks of all
        shapes ``(num_shapes, size, size)``.
    """
    others = [k for k in range(len(SHAPES)) if k != sounding]
    kinds = [sounding] + list(
        rng.choice(others, int(rng.integers(1, 3)), replace=False))
    radii = [int(rng.integers(size // 12, size // 6)) for _ in kinds]
    frame = blank_frame(rng, size)
    shapes = [
        draw_shape(frame, SHAPES[k], COLORS[k], centre, radius)
        for k, centre, radius in zip(kinds, _place(rng, radii, size), radii)
    ]
    return frame, shapes[0], np.stack(shapes)


def _write_png(path: str, image: np.ndarray) -> None:
    """Writes an RGB frame or a 0/1 mask (as 0/255) losslessly, creating
    folders."""
    if image.ndim == 3:
        image = image[..., ::-1]  # cv2 wants BGR
    else:
        image = image.astype(np.uint8) * 255
    mmcv.imwrite(image, path)


def make_avs_s4(out_dir: str,
                num_videos: Dict[str, int] = None,
                frame_size: int = 128,
                sample_rate: int = 16000,
                seed: int = 0) -> Dict[str, float]:
    """Writes the dataset in the S4 layout and returns its baselines.

    Layout (see :class:`~molt.datasets.AVSBenchDataset`):
    ``s4_meta_data.csv``, ``visual_frames/``, ``gt_masks/`` and
    ``audio_wav/``, plus ``baselines.json`` (test-split baselines).

    Args:
        out_dir: Output root.
        num_videos: Videos per split (``train``/``val``/``test``).
        frame_size: Side of the square frames and masks (the release has
            224; smaller keeps the quick start light, and the pipeline
            resizes masks to 224 anyway).
        sample_rate: Audio rate; 16 kHz, so loading exercises the
            resampling to the model's 32 kHz.
        seed: Random seed.
    """
    num_videos = num_videos or dict(train=240, val=40, test=40)
    rng = np.random.default_rng(seed)
    layout = AVS_LAYOUTS['s4']
    rows = [['name', 'start_time', 'category', 'split']]
    test_videos = []
    with tqdm(total=sum(num_videos.values()),
              desc='synthetic AVS videos') as progress:
        for split in SPLITS:
            for index in range(num_videos[split]):
                sounding = int(rng.integers(len(SHAPES)))
                fields = dict(
                    name=f'{split}{index:04d}', category=SHAPES[sounding],
                    split=split)
                rows.append([fields['name'], '0', fields['category'], split])
                frames = [
                    _render_frame(rng, sounding, frame_size)
                    for _ in range(NUM_FRAMES)
                ]
                for t, (frame, mask, _) in enumerate(frames):
                    path = osp.join(out_dir, layout['frame'].format(
                        index=t + 1, **fields))
                    _write_png(path, frame)
                    if split != 'train' or t == 0:
                        _write_png(
                            osp.join(out_dir, layout['mask'].format(
                                index=t + 1, **fields)), mask)
                wave = tone(TONES[sounding], NUM_FRAMES, sample_rate, rng)
                write_wav(
                    osp.join(out_dir, layout['audio'].format(**fields)),
                    wave + noise(NUM_FRAMES, sample_rate, rng), sample_rate)
                if split == 'test':
                    test_videos.append([(m, s) for _, m, s in frames])
                progress.update()
    with open(osp.join(out_dir, layout['ann_file']), 'w', newline='') as f:
        csv.writer(f).writerows(rows)
    result = baselines(test_videos)
    with open(osp.join(out_dir, 'baselines.json'), 'w') as f:
        json.dump(result, f, indent=2)
    return result


def baselines(videos: List[List[Tuple[np.ndarray, np.ndarray]]]
              ) -> Dict[str, float]:
    """Audio-blind answers scored like :class:`AVSMetric` (percent, per
    video then averaged):

    * ``union``: every shape in the frame;
    * ``largest``: the largest shape in the frame.

    Args:
        videos: Per video, per frame ``(mask, shape_masks)`` with the
            sounding mask ``(H, W)`` and all shapes ``(S, H, W)``.
    """
    answers = dict(
        union=lambda shapes: shapes.any(0),
        largest=lambda shapes: shapes[shapes.sum((1, 2)).argmax()])
    scores = {}
    for name, answer in answers.items():
        jaccards, fscores = [], []
        for frames in videos:
            masks = torch.from_numpy(np.stack([m for m, _ in frames]))
            preds = torch.from_numpy(np.stack([answer(s) for _, s in frames]))
            logits = preds.float() * 40 - 20  # binary answer as +-20 logits
            jaccards.append(avs_jaccard(logits, masks))
            fscores.append(avs_fscore(logits, masks))
        scores[f'{name}_jaccard'] = 100 * float(np.mean(jaccards))
        scores[f'{name}_fscore'] = 100 * float(np.mean(fscores))
    return scores
