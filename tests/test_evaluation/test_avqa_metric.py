import math

import pytest
import torch

from molt.evaluation import AVQAAccuracy, avqa_accuracy

# (question type, correct?) for 12 questions; no Audio-Visual/Temporal.
QUESTIONS = [
    ('Audio/Counting', True), ('Audio/Counting', False),
    ('Audio/Comparative', True),
    ('Visual/Counting', False), ('Visual/Location', True),
    ('Visual/Location', True), ('Visual/Location', False),
    ('Audio-Visual/Existential', True), ('Audio-Visual/Counting', False),
    ('Audio-Visual/Location', True), ('Audio-Visual/Comparative', False),
    ('Audio-Visual/Comparative', False),
]
# By hand: per type, then micro-averaged groups (every question counts once).
EXPECTED = {
    'Audio/Counting': 50.0,
    'Audio/Comparative': 100.0,
    'Visual/Counting': 0.0,
    'Visual/Location': 200 / 3,
    'Audio-Visual/Existential': 100.0,
    'Audio-Visual/Counting': 0.0,
    'Audio-Visual/Location': 100.0,
    'Audio-Visual/Comparative': 0.0,
    'Audio-Visual/Temporal': math.nan,
    'Audio': 200 / 3,  # 2 of 3
    'Visual': 50.0,  # 2 of 4
    'Audio-Visual': 40.0,  # 2 of 5
    'Overall': 50.0,  # 6 of 12
}


def predictions():
    types = [t for t, _ in QUESTIONS]
    answers = torch.arange(len(QUESTIONS)) % 4
    # A wrong prediction is another answer id; -1 answers never match.
    preds = torch.where(torch.tensor([c for _, c in QUESTIONS]), answers,
                        answers + 1)
    return preds, answers, types


def check(result, prefix=''):
    assert set(result) == {prefix + k for k in EXPECTED}
    for key, value in EXPECTED.items():
        if math.isnan(value):
            assert math.isnan(result[prefix + key]), key
        else:
            assert result[prefix + key] == pytest.approx(value), key


def test_accuracy_per_type_group_and_overall_by_hand():
    result = avqa_accuracy(*predictions())
    assert list(result) == list(EXPECTED)
    check(result)


def test_unknown_answers_count_as_wrong():
    preds, answers, types = predictions()
    answers[0] = -1  # an answer outside the training vocabulary
    assert avqa_accuracy(preds, answers, types)['Audio/Counting'] == 0.0


def test_bad_inputs():
    preds, answers, types = predictions()
    with pytest.raises(ValueError, match='12 predictions, 11 answers'):
        avqa_accuracy(preds, answers[1:], types)
    with pytest.raises(ValueError, match="'Audio/Singing'"):
        avqa_accuracy(preds, answers, types[:-1] + ['Audio/Singing'])
    with pytest.raises(ValueError, match='no questions'):
        avqa_accuracy([], [], [])


def test_registered_metric_puts_overall_first():
    preds, answers, types = predictions()
    metric = AVQAAccuracy()
    samples = [
        dict(pred_answer=p, gt_answer=a, question_type=t)
        for p, a, t in zip(preds, answers, types)
    ]
    metric.process(None, samples[:5])
    metric.process(None, samples[5:])
    result = metric.evaluate(size=len(samples))
    assert next(iter(result)) == 'avqa/Overall'
    check(result, 'avqa/')
