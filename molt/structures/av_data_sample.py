"""The data sample that travels from the dataset to the metric."""
from mmengine.structures import BaseDataElement

__all__ = ['AVDataSample']


class AVDataSample(BaseDataElement):
    """Annotations and predictions of one audio-visual sample.

    Meta information (``metainfo``) is set by the packing transform from the
    dataset's annotation dict (e.g. ``video_id``, ``sample_idx``,
    ``question_id``). Data fields used by molt's heads and metrics:

    * ``gt_label``: class label(s), e.g. ``(T,)`` per-segment AVE labels;
    * ``pred_label`` / ``pred_score``: the head's prediction;
    * ``gt_answer`` / ``pred_answer`` and ``question_type`` for AVQA;
    * ``gt_masks`` ``(T, H, W)`` / ``pred_logits`` for AVS.
    """
