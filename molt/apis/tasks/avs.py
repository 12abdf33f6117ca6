"""AVS inference: per sampled frame, the sounding object's mask."""
from typing import List

import torch
from torch.nn import functional as F

from molt.datasets import AVSBenchDataset
from molt.visualization import overlay_mask
from ..video_input import VideoMedia
from ..windows import assign_seconds
from .base import Pictures, Prediction, VideoPlan
from .windowed import WindowedTask

__all__ = ['AVSTask']

#: AVSBench's binarisation threshold on the mask probability.
MASK_THRESHOLD = 0.5


class AVSTask(WindowedTask):
    """Audio-visual segmentation (AVSBench S4/MS3 configs) on a video of any
    length.

    The video is read in windows of the AVSBench sample's frames (5 s: one
    frame and one second of audio per second), covered and merged as
    :mod:`molt.apis.windows` says. For every second of the video
    (``frames``), the result holds the mask of the frame sampled in it
    (the one nearest to its middle), **at the video's own resolution**:
    the head's logits (at its ``mask_size``, for the square frame the
    model reads) are resized bilinearly to the video's frame size, then

    * ``probability``: ``sigmoid(logits)``, ``(H, W)`` float32;
    * ``mask``: ``probability > 0.5`` (AVSBench's threshold), ``(H, W)``
      bool;
    * ``foreground``: the fraction of pixels in the mask.
    """

    name = 'avs'
    dataset_type = AVSBenchDataset

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        frames = list(self.dataset.frames)
        if frames != list(range(len(frames))):
            raise ValueError(
                f'The test dataset reads frames {frames} of each video; the '
                'inferencer covers videos with windows of consecutive '
                'seconds, so the test split must read all frames (test_mode, '
                'only_labelled_frames=False).')
        self.length = len(frames)
        self.check_overlap()

    def build_result(self, video: VideoMedia, plan: VideoPlan,
                     predictions: List[Prediction]) -> dict:
        logits = self.stack(predictions, 'pred_logits')  # (W, T, h, w)
        starts = plan.context['starts']
        frames = []
        for second, (window, position) in enumerate(
                assign_seconds(starts, self.length, video.num_seconds)):
            resized = F.interpolate(
                logits[window, position][None, None],
                size=video.frame_size,
                mode='bilinear',
                align_corners=False)[0, 0]
            probability = torch.sigmoid(resized)
            mask = probability > MASK_THRESHOLD
            frames.append(
                dict(
                    second=second,
                    foreground=float(mask.float().mean()),
                    mask=mask.numpy(),
                    probability=probability.numpy()))
        result = self.base_result(video)
        result['notes'] += self.window_notes(video.num_seconds, starts)
        result.update(mask_threshold=MASK_THRESHOLD, frames=frames)
        return result

    def headline(self, result: dict) -> str:
        """``'masks of 5 frames, 23% of the pixels on average'``."""
        shares = [entry['foreground'] for entry in result['frames']]
        return (f'masks of {len(shares)} frames, '
                f'{sum(shares) / len(shares):.0%} of the pixels on average')

    def draw(self, result: dict, video: VideoMedia) -> Pictures:
        """``overlays/NN.png`` per second and all of them as
        ``overlays.gif``: each sampled frame (short side 256) with its mask
        tinted and outlined."""
        overlays = [
            overlay_mask(video.frame(entry['second']), entry['mask'])
            for entry in result['frames']
        ]
        pictures: Pictures = {
            f'overlays/{entry["second"]:02d}.png': image
            for entry, image in zip(result['frames'], overlays)
        }
        pictures['overlays.gif'] = overlays
        return pictures
