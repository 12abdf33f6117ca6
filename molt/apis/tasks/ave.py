"""AVE inference: per second the event label, its probability and the
top-k; the video's event class."""
from typing import List

import torch

from molt.datasets import AVEDataset
from molt.visualization.ave_timeline import ave_timeline, thumbnail_step
from ..video_input import VideoMedia
from ..windows import assign_seconds
from .base import Pictures, Prediction, VideoPlan, topk_entries
from .windowed import WindowedTask

__all__ = ['AVETask']


def _spans(seconds: List[int]) -> str:
    """``[2, 3, 4, 7]`` -> ``'2-4, 7'``."""
    spans: List[List[int]] = []
    for second in seconds:
        if spans and spans[-1][1] == second - 1:
            spans[-1][1] = second
        else:
            spans.append([second, second])
    return ', '.join(str(a) if a == b else f'{a}-{b}' for a, b in spans)


class AVETask(WindowedTask):
    """Audio-visual event localisation on a video of any length.

    The video is read in windows of the dataset's ``num_segments`` seconds
    (10 for AVE; :mod:`molt.apis.windows` says how longer videos are
    covered, how overlaps are merged and how shorter ones are padded), and
    every window is one sample, as one AVE video is in ``tools/test.py``.

    Per second, the result gives:

    * ``label``/``name``: the head's decision, as ``tools/test.py`` scores
      it: the window's event class when ``event_probability`` exceeds the
      head's ``event_threshold``, else background (label 28);
    * ``event_probability``: the head's probability that the second holds
      the window's event (``sigmoid(event_logits)``);
    * ``probability`` and ``topk``: over the 29 labels, the joint
      probability the head's two outputs define, ``P(c) =
      event_probability * softmax(class_logits)[c]`` and ``P(background)
      = 1 - event_probability``. Because the decision thresholds the
      event probability first, the decided label is not always the top-1
      of this list (e.g. ``event_probability`` 0.6 with a class at 0.5
      is an event at ``P`` 0.3 < 0.4).

    The video's ``event`` is the class distribution
    (``softmax(class_logits)``) of its windows, averaged with the number of
    seconds each window reports as weights (one window: that window's).
    ``windows`` lists each window with its own event class.
    """

    name = 'ave'
    dataset_type = AVEDataset

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.length = self.dataset.num_segments
        meta = dict(self.dataset.metainfo, **self.model.dataset_meta)
        self.classes = list(meta['classes'])
        self.background = len(self.classes)
        self.names = self.classes + [meta.get('background', 'background')]
        num_classes = getattr(self.model.head, 'num_classes', None)
        if num_classes not in (None, len(self.classes)):
            raise ValueError(
                f'The head predicts {num_classes} event classes but the '
                f'checkpoint/dataset names {len(self.classes)}; use the '
                'config the checkpoint was trained with.')
        self.threshold = getattr(self.model.head, 'event_threshold', 0.5)
        self.check_overlap()

    def build_result(self, video: VideoMedia, plan: VideoPlan,
                     predictions: List[Prediction]) -> dict:
        labels = self.stack(predictions, 'pred_label').long()  # (W, T)
        relevance = self.stack(predictions, 'pred_event_score')  # (W, T)
        class_probs = self.head_output(predictions, 'class_logits',
                                       self.model.head).softmax(-1)  # (W, C)
        starts = plan.context['starts']
        owners = assign_seconds(starts, self.length, video.num_seconds)
        owned = torch.zeros(len(starts))
        seconds = []
        for second, (window, position) in enumerate(owners):
            owned[window] += 1
            event = relevance[window, position]
            joint = torch.cat([event * class_probs[window], (1 - event)[None]])
            label = int(labels[window, position])
            seconds.append(
                dict(
                    second=second,
                    label=label,
                    name=self.names[label],
                    probability=float(joint[label]),
                    event_probability=float(event),
                    topk=topk_entries(joint, self.names, self.topk)))
        video_probs = (owned[:, None] * class_probs).sum(0) / owned.sum()
        event_topk = topk_entries(video_probs, self.classes, self.topk)
        result = self.base_result(video)
        result['notes'] += self.window_notes(video.num_seconds, starts)
        result.update(
            event=dict(event_topk[0], topk=event_topk),
            event_threshold=self.threshold,
            seconds=seconds,
            windows=[
                dict(
                    start=start,
                    end=start + self.length,
                    reported=int(owned[index]),
                    event=topk_entries(class_probs[index], self.classes,
                                       1)[0])
                for index, start in enumerate(starts)
            ])
        return result

    def headline(self, result: dict) -> str:
        """``'Bark (87%), event in 4 of 10 s: 2-5'``."""
        event = result['event']
        seconds = [
            s['second'] for s in result['seconds']
            if s['label'] != self.background
        ]
        where = f': {_spans(seconds)}' if seconds else ''
        return (f"{event['name']} ({event['probability']:.0%}), event in "
                f"{len(seconds)} of {result['num_seconds']} s{where}")

    def draw(self, result: dict, video: VideoMedia) -> Pictures:
        """``timeline.png`` (drawn by
        :func:`~molt.visualization.ave_timeline.ave_timeline`)."""
        step = thumbnail_step(video.num_seconds)
        thumbnails = [
            video.frame(second)
            for second in range(0, video.num_seconds, step)
        ]
        return {
            'timeline.png':
            ave_timeline(result, thumbnails, self.threshold, self.background)
        }
