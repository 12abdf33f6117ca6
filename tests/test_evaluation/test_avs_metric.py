"""AVSMetric: per-video figures averaged over videos, independent of the
batch size, checked against hand computation."""
import math

import pytest
import torch

from molt.evaluation.metrics import AVSMetric

POS, NEG = 10.0, -10.0


def sample(pred, gt, valid):
    """A data sample dict as the evaluator hands it to the metric."""
    pred = torch.tensor(pred, dtype=torch.float32)
    return dict(
        pred_logits=torch.where(pred > 0, POS, NEG),
        gt_masks=torch.tensor(gt, dtype=torch.uint8),
        mask_valid=torch.tensor(valid, dtype=torch.bool))


def evaluate(samples, batch_size):
    metric = AVSMetric()
    for start in range(0, len(samples), batch_size):
        metric.process(None, samples[start:start + batch_size])
    return metric.evaluate(len(samples))


GT = [[1, 0], [0, 0]]
OTHERS = [[0, 1], [1, 1]]
EMPTY = [[0, 0], [0, 0]]


def test_average_over_videos_by_hand():
    # Video A: five labelled frames, all perfect -> J = F = 1.
    perfect = sample([GT] * 5, [GT] * 5, [True] * 5)
    # Video B (S4 training style): only the first frame is labelled, and
    # the prediction misses it; the other frames hold garbage that must be
    # ignored. J = 0. F: at threshold 0 everything is predicted, so
    # precision 1/4 and recall 1 give F = 1.3 * 0.25 / (0.3 * 0.25 + 1);
    # at every higher threshold the foreground pixel is missed (F = 0).
    missed = sample([OTHERS] + [GT] * 4, [GT] + [OTHERS] * 4,
                    [True] + [False] * 4)
    result = evaluate([perfect, missed], batch_size=2)
    assert result['avs/jaccard'] == pytest.approx(50.0)
    f_missed = 1.3 * 0.25 / (0.3 * 0.25 + 1)
    assert result['avs/fscore'] == pytest.approx(100 * (1 + f_missed) / 2)
    # Pooling frames instead of videos would give 5/6 for the Jaccard.
    assert not math.isclose(result['avs/jaccard'], 100 * 5 / 6)


def test_video_without_foreground_is_left_out_of_fscore():
    empty_right = sample([EMPTY] * 5, [EMPTY] * 5, [True] * 5)  # J = 1
    half = sample([[[1, 1], [0, 0]]], [GT], [True])  # J = 1/2, F by hand
    result = evaluate([empty_right, half], batch_size=1)
    assert result['avs/jaccard'] == pytest.approx(100 * (1 + 0.5) / 2)
    precision, recall = 0.5, 1.0
    f_half = 1.3 * precision * recall / (0.3 * precision + recall)
    assert result['avs/fscore'] == pytest.approx(100 * f_half)


def test_batch_size_does_not_change_the_result():
    torch.manual_seed(0)
    samples = []
    for index in range(8):
        gt = (torch.rand(5, 16, 16) > 0.7).to(torch.uint8)
        valid = torch.ones(5, dtype=torch.bool)
        if index % 3 == 0:
            valid[1:] = False  # S4-style videos mixed in
        samples.append(
            dict(pred_logits=torch.randn(5, 16, 16) * 3, gt_masks=gt,
                 mask_valid=valid))
    by_one = evaluate(samples, batch_size=1)
    by_four = evaluate(samples, batch_size=4)
    assert by_one == by_four
    assert set(by_one) == {'avs/jaccard', 'avs/fscore'}
    assert list(by_one)[0] == 'avs/jaccard'  # the save_best='auto' key


def test_sample_without_labelled_frame_is_an_error():
    metric = AVSMetric()
    bad = sample([GT], [GT], [False])
    bad['video_id'] = 'vid7'
    with pytest.raises(ValueError, match="'vid7' has no labelled frame"):
        metric.process(None, [bad])
