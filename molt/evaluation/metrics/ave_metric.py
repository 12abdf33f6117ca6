"""Registered AVE metric."""
from typing import Dict, List, Sequence

import torch
from mmengine.evaluator import BaseMetric

from molt.registry import METRICS
from ..functional import segment_accuracy

__all__ = ['AVEAccuracy']


@METRICS.register_module()
class AVEAccuracy(BaseMetric):
    """Segment-level accuracy over all segments of all videos (AVE's
    protocol), reported as ``ave/accuracy`` in percent."""

    default_prefix = 'ave'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append((sample['pred_label'].cpu(),
                                 sample['gt_label'].cpu()))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        preds = torch.stack([pred for pred, _ in results])
        labels = torch.stack([label for _, label in results])
        return dict(accuracy=segment_accuracy(preds, labels))
