"""Linear probes of frozen features: what a block's tokens tell apart.

Used by ``tools/pretrain_tiny_encoders.py`` to score every block of the
tiny encoders before and after pretraining.
"""
from typing import Dict

import numpy as np
import torch
from torch import Tensor

__all__ = ['mean_average_precision', 'ridge_probe', 'group_maps']


def mean_average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Macro average precision (%) over the classes with a positive (NaN
    when none has one).

    Args:
        scores: ``(N, K)`` scores.
        labels: ``(N, K)`` 0/1 targets.
    """
    precisions = []
    for k in range(labels.shape[1]):
        if not labels[:, k].any():
            continue
        ranked = labels[np.argsort(-scores[:, k], kind='stable'), k] > 0
        hits = np.cumsum(ranked)
        precisions.append(
            np.mean(hits[ranked] / (np.flatnonzero(ranked) + 1)))
    return 100 * float(np.mean(precisions)) if precisions else float('nan')


def ridge_probe(train_x: Tensor, train_y: Tensor, test_x: Tensor,
                l2: float = 1.0) -> np.ndarray:
    """Scores of ``test_x`` by a ridge regression to ``+-1`` targets on
    standardised features (float64, closed form)."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6

    def design(x: Tensor) -> Tensor:
        x = ((x - mean) / std).double()
        return torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], 1)

    a = design(train_x)
    weights = torch.linalg.solve(
        a.T @ a + l2 * torch.eye(a.shape[1], dtype=a.dtype),
        a.T @ (2 * train_y.double() - 1))
    return (design(test_x) @ weights).numpy()


def group_maps(scores: np.ndarray, labels: Tensor,
               groups: Dict[str, slice]) -> Dict[str, float]:
    """mAP (%) over all classes and over each group of classes."""
    labels = labels.numpy()
    maps = dict(all=mean_average_precision(scores, labels))
    maps.update(
        (name, mean_average_precision(scores[:, part], labels[:, part]))
        for name, part in groups.items())
    return maps
