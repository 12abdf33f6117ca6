"""AVSBench segmentation metrics (Jaccard and F-score), per video.

Pure functions that reproduce the official AVSBench evaluation
(``utils/utility.py``: ``mask_iou`` and ``Eval_Fmeasure``) for the frames of
a single video. Averaging over videos is left to the caller, so the reported
figure does not depend on how frames are batched (docs/en/dataset_prepare.md).

Numerics follow the official code: the sigmoid and the threshold list are
computed in float32 (so ``1 - 1e-10`` rounds to ``1.0`` and a saturated
probability of exactly ``1.0`` still counts at the last threshold); counts
and ratios are then formed in float64.
"""
from typing import Tuple

import torch
from torch import Tensor

__all__ = ['avs_jaccard', 'avs_fscore']


def _check_inputs(logits: Tensor, masks: Tensor) -> Tuple[Tensor, Tensor]:
    """Validate shapes and return ``(probs, fg)``.

    Args:
        logits (Tensor): Raw scores, shape ``(T, H, W)``.
        masks (Tensor): Ground truth, shape ``(T, H, W)``; ``> 0`` is
            foreground.

    Returns:
        tuple[Tensor, Tensor]: float32 probabilities ``(T, H, W)`` and a bool
        foreground mask ``(T, H, W)`` on the device of ``logits``.

    Raises:
        TypeError: If either input is not a tensor.
        ValueError: If the shapes differ, are not 3-D, or have a zero-sized
            dimension.
    """
    if not isinstance(logits, Tensor) or not isinstance(masks, Tensor):
        raise TypeError('logits and masks must be torch.Tensor, got '
                        f'{type(logits).__name__} and {type(masks).__name__}')
    if logits.dim() != 3 or logits.shape != masks.shape:
        raise ValueError('logits and masks must both have shape (T, H, W), '
                         f'got logits {tuple(logits.shape)} and masks '
                         f'{tuple(masks.shape)}')
    if logits.numel() == 0:
        raise ValueError('logits and masks must be non-empty, got shape '
                         f'{tuple(logits.shape)}')
    probs = torch.sigmoid(logits.detach().to(torch.float32))
    fg = masks.detach().to(logits.device) > 0
    return probs, fg


def avs_jaccard(logits: Tensor, masks: Tensor) -> float:
    """AVSBench Jaccard index (mIoU) of one video.

    Official semantics (AVSBench ``mask_iou``): per frame the prediction is
    ``sigmoid(logit) > 0.5`` and the score is
    ``|pred & gt| / |pred | gt|``; for a frame whose ground-truth mask is
    empty the score is instead the true-negative fraction
    ``|~pred & ~gt| / (H * W)``. The video's value is the mean over its
    ``T`` frames.

    The official code adds ``eps=1e-7`` to the union; it is omitted here (the
    union of a non-empty ground truth is at least 1), so a perfect
    prediction scores exactly 1.

    Args:
        logits (Tensor): Raw (pre-sigmoid) scores, shape ``(T, H, W)``.
        masks (Tensor): Ground-truth masks, shape ``(T, H, W)``; any value
            ``> 0`` (e.g. 1 or 255) is foreground.

    Returns:
        float: Mean per-frame Jaccard in ``[0, 1]``.

    Raises:
        ValueError: If the shapes differ, are not 3-D or are empty.
    """
    probs, fg = _check_inputs(logits, masks)
    pred = probs > 0.5
    num_pixels = pred.shape[-1] * pred.shape[-2]
    inter = (pred & fg).sum(dim=(1, 2)).to(torch.float64)
    union = (pred | fg).sum(dim=(1, 2)).to(torch.float64)
    true_neg = (~pred & ~fg).sum(dim=(1, 2)).to(torch.float64)
    empty_gt = fg.sum(dim=(1, 2)) == 0
    # union > 0 wherever the ground truth is non-empty.
    iou = torch.where(empty_gt, true_neg / num_pixels,
                      inter / union.clamp(min=1))
    return float(iou.mean().item())


def avs_fscore(logits: Tensor,
               masks: Tensor,
               beta2: float = 0.3,
               num_thresholds: int = 255) -> float:
    """AVSBench F-score (max F-measure over thresholds) of one video.

    Official semantics (AVSBench ``Eval_Fmeasure``): with
    ``prob = sigmoid(logit)`` and thresholds
    ``torch.linspace(0, 1 - 1e-10, num_thresholds)``, for each frame whose
    ground truth is non-empty and each threshold ``t``, ``pred = prob >= t``,
    ``precision = TP / (|pred| + 1e-20)``, ``recall = TP / (|gt| + 1e-20)``
    and ``F = (1 + beta2) * precision * recall / (beta2 * precision +
    recall)``, with ``NaN`` (0/0) set to 0. The F-curves are averaged over the
    non-empty frames and the maximum over thresholds is returned.

    Frames with an empty ground-truth mask are skipped. If every frame is
    empty, 0.0 is returned: without foreground there is no precision/recall,
    and the official per-batch average would skip such frames too.

    Counting is vectorised over thresholds by sorting the probabilities once
    per frame and using ``searchsorted`` (exact, ``O(HW log HW)``).

    Args:
        logits (Tensor): Raw (pre-sigmoid) scores, shape ``(T, H, W)``.
        masks (Tensor): Ground-truth masks, shape ``(T, H, W)``; any value
            ``> 0`` (e.g. 1 or 255) is foreground.
        beta2 (float): The ``beta^2`` weight of precision. Defaults to 0.3.
        num_thresholds (int): Number of thresholds. Defaults to 255.

    Returns:
        float: Maximum over thresholds of the frame-averaged F-curve, in
        ``[0, 1]``; 0.0 if no frame has foreground.

    Raises:
        ValueError: If the shapes differ, are not 3-D or are empty, or if
            ``num_thresholds < 1``.
    """
    probs, fg = _check_inputs(logits, masks)
    if num_thresholds < 1:
        raise ValueError(
            f'num_thresholds must be >= 1, got {num_thresholds}')
    device = probs.device
    thresholds = torch.linspace(
        0, 1 - 1e-10, num_thresholds, dtype=torch.float32, device=device)
    curve_sum = torch.zeros(num_thresholds, dtype=torch.float64, device=device)
    num_frames = 0
    for prob, gt in zip(probs, fg):
        num_gt = int(gt.sum().item())
        if num_gt == 0:
            continue
        # Number of elements >= t in a sorted vector = n - (first index >= t).
        all_sorted = torch.sort(prob.reshape(-1)).values
        fg_sorted = torch.sort(prob[gt]).values
        num_pred = all_sorted.numel() - torch.searchsorted(
            all_sorted, thresholds, right=False)
        tp = fg_sorted.numel() - torch.searchsorted(
            fg_sorted, thresholds, right=False)
        num_pred = num_pred.to(torch.float64)
        tp = tp.to(torch.float64)
        precision = tp / (num_pred + 1e-20)
        recall = tp / (num_gt + 1e-20)
        f_score = (1 + beta2) * precision * recall / (
            beta2 * precision + recall)
        f_score[torch.isnan(f_score)] = 0.0
        curve_sum += f_score
        num_frames += 1
    if num_frames == 0:
        return 0.0
    return float((curve_sum / num_frames).max().item())
