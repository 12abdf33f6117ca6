"""A small AVE-layout dataset whose events need both modalities.

Each video has one category ``c`` (one of the first ``num_classes`` AVE
classes) and an event interval ``[start, end)``. Every second shows a
picture (a coloured square; colour = class) and plays a sound (a tone;
frequency = class):

* inside the interval, picture and sound both show ``c``: the event;
* outside, exactly one modality shows ``c`` and the other shows a
  different class (or nothing): background.

So a single modality cannot tell event from background; only their
agreement can. :func:`baselines` computes the best accuracies reachable
from labels and one modality alone, for comparison.
"""
import json
import os.path as osp
from typing import Dict, List

import numpy as np
from tqdm import tqdm

from ..ave import AVE_CLASSES, HEADER
from .common import (COLORS, TONES, blank_frame, draw_shape, noise, tone,
                     write_frame, write_wav)

__all__ = ['make_ave', 'baselines']

SPLITS = (('trainSet.txt', 'train'), ('valSet.txt', 'val'),
          ('testSet.txt', 'test'))
NUM_SECONDS = 10


def _video_plan(rng: np.random.Generator, num_classes: int) -> dict:
    category = int(rng.integers(num_classes))
    length = int(rng.integers(2, 7))
    start = int(rng.integers(0, NUM_SECONDS - length + 1))
    end = start + length
    others = [k for k in range(num_classes) if k != category]
    visual, audio = [], []
    for second in range(NUM_SECONDS):
        if start <= second < end:
            visual.append(category)
            audio.append(category)
            continue
        distractor = int(rng.choice(others + [-1]))  # -1: nothing
        if rng.random() < 0.5:
            visual.append(category)
            audio.append(distractor)
        else:
            visual.append(distractor)
            audio.append(category)
    return dict(category=category, start=start, end=end, visual=visual,
                audio=audio)


def _render(plan: dict, frame_dir: str, wav_path: str,
            rng: np.random.Generator, frame_size: int,
            sample_rate: int) -> None:
    waves = []
    for second, (v, a) in enumerate(zip(plan['visual'], plan['audio'])):
        frame = blank_frame(rng, frame_size)
        if v >= 0:
            radius = int(rng.integers(frame_size // 8, frame_size // 4))
            center = tuple(
                int(x) for x in rng.integers(radius, frame_size - radius, 2))
            draw_shape(frame, 'square', COLORS[v], center, radius)
        write_frame(osp.join(frame_dir, f'{second:02d}.jpg'), frame)
        wave = noise(1.0, sample_rate, rng)
        if a >= 0:
            wave = wave + tone(TONES[a], 1.0, sample_rate, rng)
        waves.append(wave)
    write_wav(wav_path, np.concatenate(waves), sample_rate)


def make_ave(out_dir: str,
             num_videos: Dict[str, int] = None,
             num_classes: int = 4,
             frame_size: int = 64,
             sample_rate: int = 32000,
             seed: int = 0) -> Dict[str, float]:
    """Writes the dataset in the AVE layout and returns its baselines.

    Layout: ``Annotations.txt`` (with header), ``trainSet.txt``,
    ``valSet.txt``, ``testSet.txt``, ``frames/<id>/00..09.jpg`` and
    ``audio/<id>.wav``; plus ``baselines.json`` (test-split baselines).

    Args:
        out_dir: Output root.
        num_videos: Videos per split (``train``/``val``/``test``).
        num_classes: Categories used (the first AVE classes).
        frame_size: Side of the square frames.
        sample_rate: Audio rate (32 kHz like the converted release).
        seed: Random seed.
    """
    num_videos = num_videos or dict(train=160, val=40, test=40)
    if not 2 <= num_classes <= len(COLORS):
        raise ValueError(f'num_classes must be in 2..{len(COLORS)}')
    rng = np.random.default_rng(seed)
    rows: Dict[str, List[str]] = {}
    plans: Dict[str, List[dict]] = {}
    total = sum(num_videos.values())
    with tqdm(total=total, desc='synthetic AVE videos') as progress:
        for file_name, split in SPLITS:
            rows[split], plans[split] = [], []
            for index in range(num_videos[split]):
                # Ids may start with '-' in the real release; so do ours.
                video_id = f'-{split}{index:04d}'
                plan = _video_plan(rng, num_classes)
                _render(plan, osp.join(out_dir, 'frames', video_id),
                        osp.join(out_dir, 'audio', f'{video_id}.wav'), rng,
                        frame_size, sample_rate)
                category = AVE_CLASSES[plan['category']]
                rows[split].append(f'{category}&{video_id}&good&'
                                   f"{plan['start']}&{plan['end']}")
                plans[split].append(plan)
                progress.update()
            with open(osp.join(out_dir, file_name), 'w') as f:
                f.write('\n'.join(rows[split]) + '\n')
    with open(osp.join(out_dir, 'Annotations.txt'), 'w') as f:
        f.write('\n'.join([HEADER] + rows['train'] + rows['val'] +
                          rows['test']) + '\n')
    result = baselines(plans['test'], num_classes)
    with open(osp.join(out_dir, 'baselines.json'), 'w') as f:
        json.dump(result, f, indent=2)
    return result


def baselines(plans: List[dict], num_classes: int) -> Dict[str, float]:
    """Best segment accuracies (%) without using both modalities.

    * ``majority``: every segment predicted as the most frequent label;
    * ``visual_only`` / ``audio_only``: an oracle that knows the category
      and calls a segment an event whenever that modality shows it.
    """
    background = len(AVE_CLASSES)
    labels, visual_pred, audio_pred = [], [], []
    for plan in plans:
        c = plan['category']
        for second in range(NUM_SECONDS):
            labels.append(c if plan['start'] <= second < plan['end'] else
                          background)
            visual_pred.append(c if plan['visual'][second] == c else
                               background)
            audio_pred.append(c if plan['audio'][second] == c else background)
    labels = np.array(labels)
    majority = np.bincount(labels).max() / len(labels)
    return dict(
        majority=100 * float(majority),
        visual_only=100 * float((np.array(visual_pred) == labels).mean()),
        audio_only=100 * float((np.array(audio_pred) == labels).mean()))
