"""Hand-computed checks of the AVSBench Jaccard and F-score functions."""
import math

import pytest
import torch

from molt.evaluation.functional import avs_fscore, avs_jaccard

POS, NEG = 10.0, -10.0  # sigmoid(10) ~ 0.99995, sigmoid(-10) ~ 4.5e-5


def logit(p):
    return math.log(p / (1 - p))


def binary_logits(pred):
    """(T, H, W) 0/1 nested lists -> logits of +-10."""
    pred = torch.tensor(pred, dtype=torch.float32)
    return torch.where(pred > 0, torch.tensor(POS), torch.tensor(NEG))


def masks(gt, dtype=torch.float32):
    return torch.tensor(gt, dtype=dtype)


def reference_fscore(probs, gts, beta2=0.3, num=255):
    """Independent plain-Python evaluation of the official formula."""
    ths = torch.linspace(0, 1 - 1e-10, num).tolist()
    curves = []
    for prob, gt in zip(probs, gts):
        p = [float(v) for v in prob.flatten().tolist()]
        g = [v > 0 for v in gt.flatten().tolist()]
        if not any(g):
            continue
        curve = []
        for t in ths:
            pred = [v >= t for v in p]
            tp = sum(1 for a, b in zip(pred, g) if a and b)
            prec = tp / (sum(pred) + 1e-20)
            rec = tp / (sum(g) + 1e-20)
            den = beta2 * prec + rec
            curve.append((1 + beta2) * prec * rec / den if den else 0.0)
        curves.append(curve)
    if not curves:
        return 0.0
    return max(sum(c[i] for c in curves) / len(curves) for i in range(num))


# Frame whose probabilities take three levels 0.9 / 0.6 / 0.2 (none lies on a
# threshold k/254, so there are no ties).
LEVELS = [[logit(0.9), logit(0.6)], [logit(0.6), logit(0.2)]]


def test_perfect_prediction():
    gt = [[[1, 0, 0], [0, 1, 1], [0, 0, 1]], [[0, 1, 0], [0, 1, 0], [0, 0, 0]]]
    assert avs_jaccard(binary_logits(gt), masks(gt)) == 1.0
    assert avs_fscore(binary_logits(gt), masks(gt)) == pytest.approx(1.0)


def test_half_overlap_iou():
    gt = [[[1, 1], [0, 0]]]
    pred = [[[1, 0], [1, 0]]]  # inter 1, union 3
    assert avs_jaccard(binary_logits(pred), masks(gt)) == pytest.approx(1 / 3)


def test_threshold_is_strictly_above_half():
    gt = [[[1, 1], [0, 0]]]
    logits = torch.tensor([[[POS, 0.0], [NEG, NEG]]])  # sigmoid(0) = 0.5 -> 0
    assert avs_jaccard(logits, masks(gt)) == pytest.approx(1 / 2)


def test_empty_gt_scores_true_negative_fraction():
    gt = [[[0, 0, 0], [0, 0, 0], [0, 0, 0]]]
    pred = [[[1, 0, 0], [0, 0, 0], [0, 0, 1]]]  # 7 of 9 pixels predicted 0
    assert avs_jaccard(binary_logits(pred), masks(gt)) == pytest.approx(7 / 9)
    assert avs_jaccard(binary_logits(gt), masks(gt)) == 1.0


def test_mixed_empty_and_nonempty_frames():
    gt = [[[1, 1, 0], [0, 0, 0], [0, 0, 0]],
          [[0, 0, 0], [0, 0, 0], [0, 0, 0]]]
    pred = [[[1, 0, 0], [1, 0, 0], [0, 0, 0]],   # IoU 1/3
            [[1, 1, 0], [0, 0, 0], [0, 0, 0]]]   # TN 7/9
    logits, gts = binary_logits(pred), masks(gt)
    assert avs_jaccard(logits, gts) == pytest.approx((1 / 3 + 7 / 9) / 2)
    # F skips the empty frame: same value as the non-empty frame alone.
    f_both = avs_fscore(logits, gts)
    f_first = avs_fscore(logits[:1], gts[:1])
    assert f_both == pytest.approx(f_first)
    # Non-empty frame: best threshold predicts {0, 3}: P = R = 1/2 -> F = 1/2.
    assert f_first == pytest.approx(0.5)


def test_all_frames_empty():
    gt = [[[0, 0], [0, 0]], [[0, 0], [0, 0]]]
    pred = [[[1, 0], [0, 0]], [[1, 1], [1, 0]]]  # TN 3/4 and 1/4
    logits, gts = binary_logits(pred), masks(gt)
    assert avs_jaccard(logits, gts) == pytest.approx((3 / 4 + 1 / 4) / 2)
    assert avs_fscore(logits, gts) == 0.0
    assert avs_fscore(binary_logits(gt), gts) == 0.0


def test_fscore_three_levels_by_hand():
    gt = masks([[[1, 1], [0, 0]]])
    logits = torch.tensor([LEVELS])
    # t <= 0.2:       pred 4, TP 2: P=1/2, R=1   -> F = 0.65 / 1.15
    # 0.2 < t <= 0.6: pred 3, TP 2: P=2/3, R=1   -> F = 1.3*(2/3) / 1.2
    # 0.6 < t <= 0.9: pred 1, TP 1: P=1,   R=1/2 -> F = 0.65 / 0.8 = 13/16
    # t > 0.9:        pred 0 -> F = 0 (NaN set to 0)
    assert avs_fscore(logits, gt) == pytest.approx(13 / 16)
    assert avs_fscore(logits, gt) == pytest.approx(
        reference_fscore(torch.sigmoid(logits), gt))
    # beta2 = 1 (plain F1): the maximum moves to 0.2 < t <= 0.6 (F1 = 0.8).
    assert avs_fscore(logits, gt, beta2=1.0) == pytest.approx(0.8)


def test_fscore_thresholds_are_inclusive():
    # Official: pred = prob >= t. In float32 sigmoid(-200) == 0.0 (hit by
    # t = 0) and sigmoid(30) == 1.0 (hit by the last threshold, since
    # 1 - 1e-10 rounds to 1.0 in float32); sigmoid(16) < 1.0.
    gt = masks([[[1, 1]]])
    assert avs_fscore(torch.tensor([[[-200.0, -200.0]]]), gt) == \
        pytest.approx(1.0)
    gt = masks([[[1, 0]]])
    logits = torch.tensor([[[30.0, 16.0]]])
    # Only t = 1.0 separates them: pred {0}: F = 1 (else at most 0.65/1.15).
    assert avs_fscore(logits, gt) == pytest.approx(1.0)


def test_fscore_averages_curves_before_max():
    gt = masks([[[1, 1], [0, 0]], [[1, 1], [1, 0]]])
    logits = torch.tensor([LEVELS, LEVELS])
    # Frame 2 (|gt| = 3): F = 0.975/1.225, 1, (1.3/3)/(0.3 + 1/3), 0 by band.
    # Mean curve per band: 0.6806, 0.8611, 0.7484 -> max (13/18 + 1)/2.
    expected = (1.3 * (2 / 3) / 1.2 + 1.0) / 2
    assert expected == pytest.approx(31 / 36)
    got = avs_fscore(logits, gt)
    assert got == pytest.approx(expected)
    assert got != pytest.approx((13 / 16 + 1.0) / 2)  # not mean of maxima


def test_fscore_matches_reference_on_random_video():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 6, generator=g) * 2
    gt = (torch.rand(3, 5, 6, generator=g) > 0.6).float()
    gt[1] = 0  # one empty frame, skipped
    expected = reference_fscore(torch.sigmoid(logits), gt)
    assert 0.0 < expected < 1.0
    assert avs_fscore(logits, gt) == pytest.approx(expected, abs=1e-9)
    assert avs_fscore(logits, gt, num_thresholds=17) == pytest.approx(
        reference_fscore(torch.sigmoid(logits), gt, num=17), abs=1e-9)


def test_mask_value_255_is_foreground():
    gt01 = [[[1, 1, 0], [0, 0, 0], [0, 0, 0]]]
    gt255 = torch.tensor(gt01, dtype=torch.uint8) * 255
    pred = [[[1, 0, 0], [1, 0, 0], [0, 0, 0]]]
    logits = binary_logits(pred)
    assert avs_jaccard(logits, gt255) == pytest.approx(1 / 3)
    assert avs_fscore(logits, gt255) == pytest.approx(
        avs_fscore(logits, masks(gt01)))
    lv = torch.tensor([LEVELS])
    assert avs_fscore(lv, torch.tensor([[[255, 255], [0, 0]]])) == \
        pytest.approx(13 / 16)


def test_float64_logits_and_bool_masks():
    gt = torch.tensor([[[True, True], [False, False]]])
    logits = torch.tensor([LEVELS], dtype=torch.float64)
    assert avs_fscore(logits, gt) == pytest.approx(13 / 16)
    # pred {0,1,2} vs gt {0,1}: inter 2, union 3.
    assert avs_jaccard(logits, gt) == pytest.approx(2 / 3)


@pytest.mark.parametrize('lshape,mshape', [
    ((2, 4, 4), (2, 4, 5)),
    ((4, 4), (4, 4)),
    ((1, 2, 4, 4), (1, 2, 4, 4)),
    ((0, 4, 4), (0, 4, 4)),
])
def test_shape_errors(lshape, mshape):
    logits, gt = torch.zeros(lshape), torch.zeros(mshape)
    for fn in (avs_jaccard, avs_fscore):
        with pytest.raises(ValueError, match=r'\(.*\)'):
            fn(logits, gt)
    with pytest.raises(ValueError, match=str(tuple(lshape)).replace(
            '(', r'\(').replace(')', r'\)')):
        avs_jaccard(logits, gt)


def test_return_types_are_python_floats():
    gt = masks([[[1, 0], [0, 0]]])
    logits = binary_logits([[[1, 0], [0, 0]]])
    assert type(avs_jaccard(logits, gt)) is float
    assert type(avs_fscore(logits, gt)) is float
