import torch

from molt.models.heads import AVEHead
from molt.structures import AVDataSample


def feats(batch=2, steps=10, tokens=3):
    return dict(
        visual=torch.randn(batch, steps, tokens, 16),
        audio=torch.randn(batch, steps, tokens, 8))


def test_outputs_and_losses():
    head = AVEHead(visual_dims=16, audio_dims=8, num_classes=28,
                   hidden_dims=12)
    out = head(feats())
    assert out['event_logits'].shape == (2, 10)
    assert out['class_logits'].shape == (2, 28)
    labels = [torch.tensor([28] * 3 + [4] * 5 + [28] * 2),
              torch.tensor([7] * 10)]
    losses = head.loss(feats(), [AVDataSample(gt_label=l) for l in labels])
    assert set(losses) == {'loss_event', 'loss_class'}
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())


def test_prediction_uses_relevance_and_the_video_class():
    head = AVEHead(visual_dims=16, audio_dims=8, num_classes=28,
                   hidden_dims=12)
    event = torch.tensor([[3., -3., 3., -3.]])
    classes = torch.zeros(1, 28)
    classes[0, 11] = 5.
    head.forward = lambda f: dict(event_logits=event, class_logits=classes)
    sample, = head.predict(None, [AVDataSample()])
    assert sample.pred_label.tolist() == [11, 28, 11, 28]
