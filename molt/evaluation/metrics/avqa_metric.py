"""Registered MUSIC-AVQA metric."""
from typing import Dict, List, Sequence

import torch
from mmengine.evaluator import BaseMetric

from molt.registry import METRICS
from ..functional import avqa_accuracy

__all__ = ['AVQAAccuracy']


@METRICS.register_module()
class AVQAAccuracy(BaseMetric):
    """Answer accuracy (%) per question type, modality group and overall
    (see :func:`~molt.evaluation.functional.avqa_accuracy`), reported as
    ``avqa/Overall``, ``avqa/Audio/Counting``, ..., ``avqa/Audio-Visual``.

    ``avqa/Overall`` comes first, so a checkpoint hook with
    ``save_best='auto'`` selects models by the overall accuracy. Types
    without questions are NaN.

    Each data sample needs ``pred_answer``, ``gt_answer`` (-1 for an answer
    outside the training vocabulary, always wrong) and ``question_type``.
    """

    default_prefix = 'avqa'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append((int(sample['pred_answer']),
                                 int(sample['gt_answer']),
                                 sample['question_type']))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        preds, answers, types = zip(*results)
        accuracy = avqa_accuracy(
            torch.tensor(preds), torch.tensor(answers), list(types))
        overall = accuracy.pop('Overall')
        return dict(Overall=overall, **accuracy)
