"""Per-class, per-type and per-video breakdowns of test predictions.

Reads what ``tools/test.py --out FILE`` dumps (mmengine's ``DumpResults``:
a pickled list with one dict per test sample, the fields the task head and
dataset wrote) and recomputes what the task's metric averages away:

* AVE: the segment confusion matrix (29 classes: 28 events + background);
* MUSIC-AVQA: accuracy and question count per question type, modality
  group and overall (the metric's own function);
* AVSBench: Jaccard and F-score per video (the metric's own per-video
  computation, :class:`~molt.evaluation.metrics.AVSMetric`).
"""
import pickle
from collections import Counter
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from molt.evaluation.functional import (AVQA_GROUPS, AVQA_QUESTION_TYPES,
                                        avqa_accuracy)
from molt.evaluation.metrics import AVSMetric

__all__ = ['load_predictions', 'detect_task', 'confusion_matrix',
           'ave_confusion_matrix', 'avqa_type_accuracy', 'avs_video_scores']

# The fields each task's records must have.
TASK_FIELDS = dict(
    ave=('pred_label', 'gt_label'),
    avqa=('pred_answer', 'gt_answer', 'question_type'),
    avs=('pred_logits', 'gt_masks', 'mask_valid'))


def load_predictions(path: str) -> List[dict]:
    """Reads a ``tools/test.py --out`` file.

    It is a pickle with tensors inside, so it is fully unpickled (which can
    run code): only read files you produced or trust.

    Raises:
        ValueError: The file does not hold a non-empty list of dicts.
    """
    with open(path, 'rb') as f:
        records = pickle.load(f)
    if not isinstance(records, list) or not records or not all(
            isinstance(r, dict) for r in records):
        raise ValueError(
            f'{path} is not a tools/test.py --out file (a non-empty list of '
            'per-sample dicts); make one with tools/test.py CONFIG CKPT '
            '--out FILE.pkl.')
    return records


def detect_task(records: Sequence[dict], source: str = 'the predictions'
                ) -> str:
    """``'ave'``, ``'avqa'`` or ``'avs'`` from the fields of the records.

    Raises:
        ValueError: No task's fields are all present; names those found.
    """
    fields = set(records[0])
    for task, needed in TASK_FIELDS.items():
        if set(needed) <= fields:
            if task == 'ave' and torch.as_tensor(
                    records[0]['gt_label']).dim() != 1:
                continue  # a clip-level classification, not AVE segments
            return task
    raise ValueError(
        f'{source} have the fields {sorted(fields)}, which match no task '
        f'with a breakdown; expected one of {dict(TASK_FIELDS)}.')


def confusion_matrix(labels: np.ndarray, preds: np.ndarray,
                     num_classes: int) -> np.ndarray:
    """``(num_classes, num_classes)`` counts, rows = ground truth, columns
    = prediction.

    Raises:
        ValueError: A label or prediction is outside ``[0, num_classes)``.
    """
    labels, preds = np.asarray(labels).ravel(), np.asarray(preds).ravel()
    for name, values in (('label', labels), ('prediction', preds)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(
                f'A {name} ({values.min()}..{values.max()}) is outside the '
                f'{num_classes} classes; does the config match the '
                'predictions?')
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (labels, preds), 1)
    return counts


def ave_confusion_matrix(records: Sequence[dict],
                         num_classes: int) -> np.ndarray:
    """Segment confusion matrix of AVE predictions (every segment of every
    video counts once, as in the segment accuracy)."""
    labels = np.concatenate(
        [torch.as_tensor(r['gt_label']).numpy().ravel() for r in records])
    preds = np.concatenate(
        [torch.as_tensor(r['pred_label']).numpy().ravel() for r in records])
    return confusion_matrix(labels, preds, num_classes)


def avqa_type_accuracy(records: Sequence[dict]) -> List[Dict]:
    """Accuracy (%) and question count per type, group and overall.

    Returns:
        One dict per entry (``name``, ``level`` = ``'type'``/``'group'``/
        ``'overall'``, ``accuracy``, ``questions``), in the order of the
        papers' tables; accuracy is NaN without questions.
    """
    types = [r['question_type'] for r in records]
    accuracy = avqa_accuracy([int(r['pred_answer']) for r in records],
                             [int(r['gt_answer']) for r in records], types)
    type_counts = Counter(types)
    group_counts = Counter(t.split('/')[0] for t in types)
    rows = [dict(name=name, level='type', accuracy=accuracy[name],
                 questions=type_counts[name]) for name in AVQA_QUESTION_TYPES]
    rows += [dict(name=name, level='group', accuracy=accuracy[name],
                  questions=group_counts[name]) for name in AVQA_GROUPS]
    rows.append(dict(name='Overall', level='overall',
                     accuracy=accuracy['Overall'], questions=len(types)))
    return rows


def avs_video_scores(records: Sequence[dict]) -> List[Dict]:
    """Jaccard and F-score (%) of every video, as the metric computes them
    before averaging.

    Returns:
        One dict per video: ``video_id``, ``jaccard``, ``fscore`` (None for
        a video without foreground in any labelled frame, which the metric
        leaves out of the F average).
    """
    metric = AVSMetric()
    metric.process(None, records)
    scores = []
    for index, (record, (jaccard, fscore)) in enumerate(
            zip(records, metric.results)):
        video: Optional[str] = record.get('video_id')
        scores.append(dict(
            video_id=video if video is not None else f'#{index}',
            jaccard=100 * jaccard,
            fscore=None if fscore is None else 100 * fscore))
    return scores
