import pytest
import torch

from molt.evaluation import AVEAccuracy, segment_accuracy


def test_segment_accuracy_by_hand():
    preds = torch.tensor([[28, 1, 1, 28], [3, 3, 28, 28]])
    labels = torch.tensor([[28, 1, 28, 28], [3, 3, 3, 28]])
    # 6 of 8 segments agree
    assert segment_accuracy(preds, labels) == pytest.approx(75.0)
    with pytest.raises(ValueError, match='videos, T'):
        segment_accuracy(preds[0], labels[0])


def test_metric_pools_all_segments_of_all_videos():
    metric = AVEAccuracy()
    batches = [
        [dict(pred_label=torch.tensor([0, 28]),
              gt_label=torch.tensor([0, 0]))],
        [dict(pred_label=torch.tensor([5, 5]), gt_label=torch.tensor([5, 5])),
         dict(pred_label=torch.tensor([28, 28]),
              gt_label=torch.tensor([28, 1]))],
    ]
    for samples in batches:
        metric.process(None, samples)
    result = metric.evaluate(size=3)
    assert result == {'ave/accuracy': pytest.approx(100 * 4 / 6)}
