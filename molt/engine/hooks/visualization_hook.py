"""Writing the test predictions of each video as images."""
import os.path as osp
from typing import Optional, Sequence

import mmcv
from mmengine.hooks import Hook
from mmengine.visualization import Visualizer

from molt.registry import HOOKS
from molt.structures import AVDataSample

__all__ = ['AVVisualizationHook']


@HOOKS.register_module()
class AVVisualizationHook(Hook):
    """After each test iteration, hands every video's frames and data sample
    (predictions and ground truth) to the runner's visualizer, which draws
    them (e.g. :class:`~molt.visualization.AVSVisualizer`).

    Off by default; ``tools/test.py --show-dir DIR`` turns it on and writes
    ``DIR/<video_id>.png`` per video. Without ``show_dir`` the drawings go
    to the visualizer's backends.

    Samples must carry the ``frame_paths`` meta key (the frames as stored).

    Args:
        draw: Draw at all.
        show_dir: Folder for one PNG per video, or None.
    """

    def __init__(self, draw: bool = False, show_dir: Optional[str] = None):
        self.draw = draw
        self.show_dir = show_dir

    def before_test(self, runner) -> None:
        if not self.draw:
            return
        visualizer = runner.visualizer
        if type(visualizer).add_datasample is Visualizer.add_datasample:
            raise TypeError(
                f'{type(visualizer).__name__} does not draw data samples; '
                "set the config's visualizer to one that does, e.g. "
                "visualizer=dict(type='AVSVisualizer').")

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: dict = None,
                        outputs: Sequence[AVDataSample] = ()) -> None:
        if not self.draw:
            return
        for sample in outputs:
            if 'frame_paths' not in sample:
                raise KeyError(
                    'AVVisualizationHook needs the frame_paths meta key; '
                    "add it to PackAVInputs' meta_keys.")
            name = str(sample.video_id)
            frames = [
                mmcv.imread(path, channel_order='rgb')
                for path in sample.frame_paths
            ]
            out_file = (None if self.show_dir is None else osp.join(
                self.show_dir, f'{name}.png'))
            runner.visualizer.add_datasample(
                name, frames, data_sample=sample, out_file=out_file,
                step=batch_idx)
