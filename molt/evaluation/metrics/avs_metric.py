"""Registered AVSBench metric: Jaccard and F-score per video."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from molt.registry import METRICS
from ..functional import avs_fscore, avs_jaccard

__all__ = ['AVSMetric']


@METRICS.register_module()
class AVSMetric(BaseMetric):
    """AVSBench's Jaccard (mIoU) and F-score (beta^2 = 0.3), each computed
    per video over its labelled frames (``mask_valid``) and then averaged
    over videos, so the figures do not depend on the batch size. Reported
    in percent as ``avs/jaccard`` (the model-selection key: it comes first)
    and ``avs/fscore``.

    A video without foreground in any labelled frame has no F-score (no
    precision or recall); it is left out of the F average and counted in
    the log (NaN when no video has any). Its Jaccard (the true-negative
    rate) is kept.

    Each sample needs ``pred_logits`` ``(T, H, W)``, ``gt_masks``
    ``(T, H, W)`` and ``mask_valid`` ``(T, )``.
    """

    default_prefix = 'avs'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            valid = sample['mask_valid'].bool().cpu()
            if not valid.any():
                raise ValueError(
                    f"AVSMetric: video {sample.get('video_id')!r} has no "
                    'labelled frame to evaluate (mask_valid is all False).')
            logits = sample['pred_logits'].cpu()[valid]
            masks = sample['gt_masks'].cpu()[valid]
            fscore = avs_fscore(logits, masks) if masks.any() else None
            self.results.append((avs_jaccard(logits, masks), fscore))

    def compute_metrics(
            self, results: List[Tuple[float, Optional[float]]]
    ) -> Dict[str, float]:
        fscores = [f for _, f in results if f is not None]
        skipped = len(results) - len(fscores)
        if skipped:
            print_log(
                f'AVSMetric: {skipped} of {len(results)} video(s) have no '
                'foreground in any labelled frame and are left out of the '
                'F-score.', logger='current')
        fscore = float(np.mean(fscores)) if fscores else float('nan')
        return dict(
            jaccard=100 * float(np.mean([j for j, _ in results])),
            fscore=100 * fscore)
