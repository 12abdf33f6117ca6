"""A small MUSIC-AVQA-layout dataset whose questions need the sound, the
picture or both.

Each video shows a still scene: 1-3 instruments drawn as squares (colour =
instrument) in the cells of a 2x2 grid (left / right column), and plays the
tones (frequency = instrument) of the instruments that sound; sometimes one
of them is off screen. Videos last 10-20 s, shorter than the 60 s the
dataset samples, so the loaders repeat their last second.

Questions, in MUSIC-AVQA's format (``<Object>``/``<LR>`` placeholders):

* ``Audio-Visual/Existential`` "Is the <Object> in the video playing?":
  yes only when the instrument is seen *and* heard;
* ``Audio-Visual/Location`` "Where is the sounding instrument?": left or
  right (asked when exactly one visible instrument sounds);
* ``Audio/Counting`` "How many instruments are sounding in the video?";
* ``Visual/Counting`` "How many <Object> are in the video?";
* ``Visual/Location`` "Is the <Object> on the <LR> side of the video?".

Every valid question is asked about every video (about eight per video;
see :func:`_questions`). Answers are near balanced given the question, so a
model that does not look or listen stays near the question-only baselines
of :func:`baselines`.
"""
import json
import math
import os.path as osp
from collections import Counter, defaultdict
from typing import Dict, List, Optional, Tuple

import numpy as np
from tqdm import tqdm

from molt.evaluation.functional import avqa_accuracy
from .common import (COLORS, TONES, blank_frame, draw_shape, noise, tone,
                     write_frame, write_wav)

__all__ = ['make_avqa', 'baselines', 'INSTRUMENTS']

#: Instrument names (MUSIC-AVQA's); instrument k has COLORS[k], TONES[k].
INSTRUMENTS = ('cello', 'flute', 'guzheng', 'accordion')
NUMBERS = ('zero', 'one', 'two', 'three')
SIDES = ('left', 'right')
SPLITS = ('train', 'val', 'test')
MIN_SECONDS, MAX_SECONDS = 10, 20


def _scene(rng: np.random.Generator) -> dict:
    """Random instruments: ``visible`` ``[(instrument, row, column)]`` (1-3
    in distinct cells, half of the scenes with a pair of the same
    instrument) and the ``sounding`` instruments (1-3, mostly visible
    ones)."""
    num_visible = int(rng.integers(1, 4))
    classes = [
        int(k) for k in rng.integers(len(INSTRUMENTS), size=num_visible)
    ]
    if num_visible > 1 and rng.random() < 0.5:
        classes[1] = classes[0]
    cells = rng.permutation(4)[:num_visible]
    visible = [(k, int(c) // 2, int(c) % 2) for k, c in zip(classes, cells)]
    # Visible instruments are three times as likely to sound as hidden ones.
    weights = np.array([3.0 if k in classes else 1.0
                        for k in range(len(INSTRUMENTS))])
    sounding = rng.choice(len(INSTRUMENTS), int(rng.integers(1, 4)),
                          replace=False, p=weights / weights.sum())
    return dict(visible=visible, sounding=sorted(int(k) for k in sounding))


def _questions(scene: dict, rng: np.random.Generator) -> List[dict]:
    """Every valid question about the scene: ``type``,
    ``question_content``, ``templ_values`` and ``anser`` (decoded).

    * Audio-Visual/Existential: each playing visible instrument (yes) and
      as many others (no);
    * Audio/Counting: once;
    * Visual/Counting: each visible instrument and one absent one (zero);
    * Visual/Location: each instrument seen once, on both sides (yes/no);
    * Audio-Visual/Location: when exactly one visible instrument sounds.

    Each video thus trains every object question it can answer, about
    eight per video; a question and its answer never depend on which
    other questions were drawn.
    """
    counts = Counter(k for k, _, _ in scene['visible'])
    sounding = set(scene['sounding'])
    playing = [k for k in counts if k in sounding]
    not_playing = [k for k in range(len(INSTRUMENTS)) if k not in playing]
    silent = rng.permutation(not_playing)[:max(1, len(playing))]
    questions = [(('Audio-Visual', 'Existential'),
                  'Is the <Object> in the video playing?', [INSTRUMENTS[k]],
                  'yes' if k in playing else 'no')
                 for k in [*playing, *(int(k) for k in silent)]]
    questions.append((('Audio', 'Counting'),
                      'How many instruments are sounding in the video?', [],
                      NUMBERS[len(sounding)]))
    absent = [k for k in range(len(INSTRUMENTS)) if counts[k] == 0]
    for k in [*counts, int(rng.choice(absent))]:
        questions.append((('Visual', 'Counting'),
                          'How many <Object> are in the video?',
                          [INSTRUMENTS[k]], NUMBERS[counts[k]]))
    for k, _, column in scene['visible']:
        if counts[k] == 1:
            questions.extend(
                (('Visual', 'Location'),
                 'Is the <Object> on the <LR> side of the video?',
                 [INSTRUMENTS[k], SIDES[side]],
                 'yes' if side == column else 'no') for side in range(2))
    heard = [col for k, _, col in scene['visible'] if k in sounding]
    if len(heard) == 1:
        questions.append((('Audio-Visual', 'Location'),
                          'Where is the sounding instrument?', [],
                          SIDES[heard[0]]))
    return [
        dict(type=list(kind), question_content=content, templ_values=values,
             anser=answer) for kind, content, values, answer in questions
    ]


def _render(scene: dict, seconds: int, frame_dir: str, wav_path: str,
            rng: np.random.Generator, frame_size: int,
            sample_rate: int) -> None:
    radius = frame_size // 9
    for second in range(seconds):
        frame = blank_frame(rng, frame_size)
        for k, row, col in scene['visible']:
            # Cell centres at 1/4 and 3/4 of the frame, jittered per second.
            center = tuple(
                int((2 * cell + 1) * frame_size / 4 + rng.integers(-2, 3))
                for cell in (row, col))
            draw_shape(frame, 'square', COLORS[k], center, radius)
        write_frame(osp.join(frame_dir, f'{second:02d}.jpg'), frame)
    wave = noise(seconds, sample_rate, rng)
    for k in scene['sounding']:
        wave = wave + tone(TONES[k], seconds, sample_rate, rng, amplitude=0.2)
    write_wav(wav_path, wave, sample_rate)


def make_avqa(out_dir: str,
              num_videos: Optional[Dict[str, int]] = None,
              frame_size: int = 64,
              sample_rate: int = 32000,
              seed: int = 0) -> Dict[str, Dict[str, float]]:
    """Writes the dataset in the MUSIC-AVQA layout and returns its
    baselines.

    Layout: ``avqa-train.json``, ``avqa-val.json``, ``avqa-test.json``
    (official format: JSON-encoded ``type`` and ``templ_values``,
    placeholders in ``question_content``, ``anser``),
    ``frames/<id>/00.jpg ...`` (10-20 per video), ``audio/<id>.wav``; plus
    ``baselines.json`` (test-split baselines, see :func:`baselines`).

    Args:
        out_dir: Output root.
        num_videos: Videos per split (``train``/``val``/``test``).
        frame_size: Side of the square frames.
        sample_rate: Audio rate (32 kHz like the converted release).
        seed: Random seed.
    """
    num_videos = num_videos or dict(train=120, val=30, test=40)
    rng = np.random.default_rng(seed)
    entries: Dict[str, List[dict]] = {}
    video_index = question_id = 0
    with tqdm(total=sum(num_videos.values()),
              desc='synthetic AVQA videos') as progress:
        for split in SPLITS:
            entries[split] = []
            for _ in range(num_videos[split]):
                video_id = f'{video_index:08d}'
                video_index += 1
                scene = _scene(rng)
                seconds = int(rng.integers(MIN_SECONDS, MAX_SECONDS + 1))
                _render(scene, seconds, osp.join(out_dir, 'frames', video_id),
                        osp.join(out_dir, 'audio', f'{video_id}.wav'), rng,
                        frame_size, sample_rate)
                for question in _questions(scene, rng):
                    question_id += 1
                    entries[split].append(
                        dict(video_id=video_id, question_id=question_id,
                             **question))
                progress.update()
            with open(osp.join(out_dir, f'avqa-{split}.json'), 'w') as f:
                json.dump([_encode(e) for e in entries[split]], f, indent=1)
    result = baselines(entries['train'], entries['test'])
    with open(osp.join(out_dir, 'baselines.json'), 'w') as f:
        json.dump(result, f, indent=2)
    return result


def _encode(entry: dict) -> dict:
    """The official encoding: ``type`` and ``templ_values`` as JSON strings."""
    return dict(
        video_id=entry['video_id'],
        question_id=entry['question_id'],
        type=json.dumps(entry['type']),
        question_content=entry['question_content'],
        templ_values=json.dumps(entry['templ_values']),
        question_deleted=0,
        anser=entry['anser'])


def _type(entry: dict) -> str:
    return '/'.join(entry['type'])


def _question(entry: dict) -> Tuple[str, ...]:
    return (entry['question_content'], *entry['templ_values'])


def baselines(train: List[dict],
              test: List[dict]) -> Dict[str, Dict[str, float]]:
    """Test accuracies (%) of answering without audio or video, from the
    training answers; keys as :func:`avqa_accuracy`, types without test
    questions left out.

    * ``majority``: the most frequent training answer, always;
    * ``type_majority``: the most frequent training answer of the
      question's type;
    * ``question_only``: the most frequent training answer of the same
      question (template and values), else of its type.
    """

    def most_common(key) -> Dict:
        answers = defaultdict(Counter)
        for entry in train:
            answers[key(entry)][entry['anser']] += 1
        return {k: c.most_common(1)[0][0] for k, c in answers.items()}

    overall = Counter(e['anser'] for e in train).most_common(1)[0][0]
    by_type, by_question = most_common(_type), most_common(_question)
    predictions = dict(
        majority=[overall for _ in test],
        type_majority=[by_type.get(_type(e), overall) for e in test],
        question_only=[
            by_question.get(_question(e), by_type.get(_type(e), overall))
            for e in test
        ])
    answers = [e['anser'] for e in test]
    types = [_type(e) for e in test]
    result = {}
    for name, preds in predictions.items():
        ids = {a: i for i, a in enumerate(dict.fromkeys(answers + preds))}
        accuracy = avqa_accuracy([ids[p] for p in preds],
                                 [ids[a] for a in answers], types)
        result[name] = {
            k: v for k, v in accuracy.items() if not math.isnan(v)}
    return result
