"""AVSVisualizer draws predictions above ground truth, per frame."""
import numpy as np
import torch

from molt.structures import AVDataSample
from molt.visualization import AVSVisualizer


def test_rows_and_masks(tmp_path):
    visualizer = AVSVisualizer(name='test_avs_visualizer')
    frames = [np.full((8, 8, 3), 100, np.uint8) for _ in range(2)]
    pred = torch.full((2, 4, 4), -5.0)
    pred[:, :2, :2] = 5.0  # top-left quarter (masks are resized to 8x8)
    gt = torch.zeros(2, 4, 4, dtype=torch.uint8)
    gt[:, 2:, 2:] = 1  # bottom-right quarter
    sample = AVDataSample(pred_logits=pred, gt_masks=gt,
                          mask_valid=torch.tensor([True, False]))
    out_file = str(tmp_path / 'vid.png')
    drawing = visualizer.add_datasample('vid', frames, sample,
                                        out_file=out_file)
    assert drawing.shape == (16, 16, 3)
    assert (tmp_path / 'vid.png').is_file()
    plain = np.array([100, 100, 100])
    pred_row, gt_row = drawing[:8], drawing[8:]
    for col in (0, 8):  # both frames show the prediction
        assert (pred_row[0, col] != plain).any()
        assert (pred_row[7, col + 7] == plain).all()
    assert (gt_row[7, 7] != plain).any()  # labelled frame: mask drawn
    assert (gt_row[0, 0] == plain).all()
    assert (gt_row[:, 8:] == plain).all()  # unlabelled frame stays plain
