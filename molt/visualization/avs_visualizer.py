"""Drawing AVS predictions and ground truth over a video's frames."""
from typing import Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmengine.visualization import Visualizer

from molt.registry import VISUALIZERS
from molt.structures import AVDataSample
from .mask_overlay import overlay_mask

__all__ = ['AVSVisualizer']


@VISUALIZERS.register_module()
class AVSVisualizer(Visualizer):
    """Draws one image per video: a row of frames with the predicted mask
    (``sigmoid(pred_logits) > 0.5``, AVSBench's threshold) over them and,
    below, a row with the ground truth. Frames without a mask
    (``mask_valid`` False) stay plain in the ground-truth row. Masks are
    drawn with :func:`~molt.visualization.overlay_mask` (resized, nearest,
    to the frames as stored), as the inferencer draws its AVS results.

    Args:
        name: Instance name (mmengine keeps one visualiser per name).
        pred_color: RGB colour of the predicted masks.
        gt_color: RGB colour of the ground-truth masks.
        alpha: Opacity of the masks.
        **kwargs: :class:`mmengine.visualization.Visualizer` arguments
            (``vis_backends``, ``save_dir``, ...).
    """

    def __init__(self,
                 name: str = 'avs_visualizer',
                 pred_color: Tuple[int, int, int] = (220, 20, 60),
                 gt_color: Tuple[int, int, int] = (0, 200, 80),
                 alpha: float = 0.5,
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.pred_color = tuple(pred_color)
        self.gt_color = tuple(gt_color)
        self.alpha = alpha

    def _draw_row(self, frames: Sequence[np.ndarray], masks: np.ndarray,
                  color: Tuple[int, int, int]) -> np.ndarray:
        """The frames side by side, each with its mask of ``masks``
        ``(T, h, w)`` over it."""
        return np.concatenate([
            overlay_mask(frame, mask.astype(bool), color, self.alpha)
            for frame, mask in zip(frames, masks)
        ], 1)

    def add_datasample(self,
                       name: str,
                       image: Sequence[np.ndarray],
                       data_sample: Optional[AVDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0) -> np.ndarray:
        """Draws a video's frames with its masks.

        Args:
            name: Window / image name.
            image: The video's frames, each ``(H, W, 3)`` uint8 RGB.
            data_sample: With ``pred_logits`` ``(T, h, w)`` and/or
                ``gt_masks`` ``(T, h, w)`` and ``mask_valid`` ``(T, )``.
            draw_gt: Draw the ground-truth row.
            draw_pred: Draw the prediction row.
            show: Display the drawing in a window.
            wait_time: Seconds to display it.
            out_file: Write the drawing to this PNG instead of the
                visualisation backends.
            step: Global step for the backends.

        Returns:
            The drawing, ``(rows * H, T * W, 3)`` uint8 RGB.
        """
        frames = list(image)
        rows = []
        if draw_pred and data_sample is not None and 'pred_logits' in \
                data_sample:
            preds = data_sample.pred_logits.float().cpu() > 0
            rows.append(self._draw_row(frames, preds.numpy(), self.pred_color))
        if draw_gt and data_sample is not None and 'gt_masks' in data_sample:
            valid = data_sample.mask_valid.cpu().view(-1, 1, 1)
            masks = (data_sample.gt_masks.cpu() > 0) & valid
            rows.append(self._draw_row(frames, masks.numpy(), self.gt_color))
        if not rows:
            rows.append(np.concatenate(frames, 1))
        drawn = np.concatenate(rows, 0)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(drawn[..., ::-1], out_file)  # cv2 wants BGR
        else:
            self.add_image(name, drawn, step)
        return drawn
