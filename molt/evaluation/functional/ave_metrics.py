"""AVE's segment-level accuracy."""
import torch

__all__ = ['segment_accuracy']


def segment_accuracy(preds: torch.Tensor, labels: torch.Tensor) -> float:
    """Percentage of segments whose predicted class (29 classes: 28 events
    and background) equals the label, over all segments of all videos.

    Args:
        preds: Predicted classes ``(num_videos, T)``.
        labels: Ground-truth classes ``(num_videos, T)``.

    Returns:
        Accuracy in percent.
    """
    if preds.shape != labels.shape or preds.dim() != 2:
        raise ValueError(f'preds {tuple(preds.shape)} and labels '
                         f'{tuple(labels.shape)} must both be (videos, T).')
    if preds.numel() == 0:
        raise ValueError('segment_accuracy got no segments.')
    return (preds == labels).double().mean().item() * 100
