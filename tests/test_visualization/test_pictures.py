"""Pictures of inference results (the inferencer's tasks draw them)."""
import numpy as np

from molt.visualization import overlay_mask
from molt.visualization.answer_strip import answer_strip, strip_size
from molt.visualization.ave_timeline import (ave_timeline, thumbnail_step,
                                             timeline_size)


def _ave_result(num_seconds: int) -> dict:
    seconds = []
    for second in range(num_seconds):
        event = second in (3, 4, 5)
        seconds.append(dict(
            second=second, label=2 if event else 28,
            name='Bark' if event else 'background',
            event_probability=0.8 if event else 0.2))
    return dict(video='v.mp4', seconds=seconds,
                event=dict(label=2, name='Bark', probability=0.9))


def test_timeline_has_its_announced_size():
    for num_seconds in (4, 25, 200):
        step = thumbnail_step(num_seconds)
        thumbnails = [np.zeros((8, 12, 3), np.uint8)] * len(
            range(0, num_seconds, step))
        image = ave_timeline(_ave_result(num_seconds), thumbnails, 0.5, 28)
        assert image.shape == timeline_size(num_seconds)[::-1] + (3, )
    assert thumbnail_step(200) == 7 and thumbnail_step(25) == 1
    assert timeline_size(10) == (640, 380)


def test_overlay_tints_the_mask_and_outlines_it():
    frame = np.zeros((20, 30, 3), np.uint8)
    mask = np.zeros((10, 15), bool)
    mask[2:8, 3:12] = True  # resized (nearest) to the frame: 4:16, 6:24
    out = overlay_mask(frame, mask, color=(200, 0, 0), alpha=0.5)
    assert out.shape == frame.shape
    assert tuple(out[10, 15]) == (100, 0, 0)  # inside: half tint
    assert tuple(out[4, 10]) == (200, 0, 0)  # edge: full colour
    assert tuple(out[0, 0]) == (0, 0, 0)  # outside: untouched


def test_answer_strip_has_its_announced_size():
    result = dict(video='v.mp4', question='Is it?', answer='yes',
                  probability=0.7, num_seconds=3, seconds=[0, 2, 4],
                  topk=[dict(name='yes', probability=0.7),
                        dict(name='no', probability=0.3)])
    image = answer_strip(result, [np.zeros((8, 8, 3), np.uint8)] * 3)
    assert image.shape == strip_size()[::-1] + (3, )
