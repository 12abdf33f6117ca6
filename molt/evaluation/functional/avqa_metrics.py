"""MUSIC-AVQA answer accuracy per question type, modality group and overall."""
import math
from typing import Dict, Sequence, Union

import torch

__all__ = ['AVQA_QUESTION_TYPES', 'AVQA_GROUPS', 'avqa_accuracy']

#: The nine question types of MUSIC-AVQA, ``'<modality>/<kind>'``, in the
#: order of the papers' tables.
AVQA_QUESTION_TYPES = (
    'Audio/Counting', 'Audio/Comparative', 'Visual/Counting',
    'Visual/Location', 'Audio-Visual/Existential', 'Audio-Visual/Counting',
    'Audio-Visual/Location', 'Audio-Visual/Comparative',
    'Audio-Visual/Temporal')
#: The modality groups, the part of a type before the '/'.
AVQA_GROUPS = ('Audio', 'Visual', 'Audio-Visual')

IntSequence = Union[torch.Tensor, Sequence[int]]


def _percent(correct: torch.Tensor) -> float:
    """Mean of a bool tensor in percent; NaN when it is empty."""
    if correct.numel() == 0:
        return math.nan
    return correct.double().mean().item() * 100


def avqa_accuracy(preds: IntSequence, answers: IntSequence,
                  types: Sequence[str]) -> Dict[str, float]:
    """Answer accuracy (%) per question type, per modality group and overall.

    Group and overall figures are micro-averages: every question counts
    once, so a group's figure weighs its types by their question counts.
    A type (or group) without questions is reported as NaN, so every key
    is always present.

    An answer id that no prediction can take (e.g. -1 for an answer outside
    the training vocabulary) simply counts as wrong.

    Args:
        preds: Predicted answer ids ``(Q,)``.
        answers: Ground-truth answer ids ``(Q,)``.
        types: Question type of each question, e.g.
            ``'Audio-Visual/Existential'`` (see :data:`AVQA_QUESTION_TYPES`).

    Returns:
        The nine types of :data:`AVQA_QUESTION_TYPES`, the groups ``'Audio'``,
        ``'Visual'``, ``'Audio-Visual'`` and ``'Overall'``, in that order.

    Raises:
        ValueError: Lengths differ, there are no questions, or a type is
            unknown.
    """
    preds = torch.as_tensor(preds).reshape(-1)
    answers = torch.as_tensor(answers).reshape(-1)
    if not len(preds) == len(answers) == len(types):
        raise ValueError(f'avqa_accuracy got {len(preds)} predictions, '
                         f'{len(answers)} answers and {len(types)} types.')
    if len(types) == 0:
        raise ValueError('avqa_accuracy got no questions.')
    unknown = sorted(set(types) - set(AVQA_QUESTION_TYPES))
    if unknown:
        raise ValueError(f'Unknown question type(s) {unknown}; expected '
                         f'{AVQA_QUESTION_TYPES}.')
    correct = preds.to(answers.device) == answers
    groups = [t.split('/')[0] for t in types]
    results = {}
    for name in AVQA_QUESTION_TYPES:
        results[name] = _percent(correct[[t == name for t in types]])
    for name in AVQA_GROUPS:
        results[name] = _percent(correct[[g == name for g in groups]])
    results['Overall'] = _percent(correct)
    return results
