"""What every inference task shares: samples planned from a video, model
predictions turned into a plain result, pictures drawn from it."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dataset import BaseDataset
from torch import Tensor, nn

from molt.structures import AVDataSample
from ..pipeline import InferencePipeline
from ..video_input import VideoMedia

__all__ = [
    'SampleSpec', 'VideoPlan', 'Prediction', 'InferenceTask', 'topk_entries',
    'Pictures'
]

#: File name -> an image ``(H, W, 3)`` uint8 (PNG) or a list of them (GIF).
Pictures = Dict[str, Union[np.ndarray, List[np.ndarray]]]


@dataclass
class SampleSpec:
    """One model sample of a video.

    Attributes:
        seconds: Its segment seconds (may pass the video's end).
        inputs: More inputs of the pipeline (e.g. the question's words).
    """
    seconds: List[int]
    inputs: dict = field(default_factory=dict)


@dataclass
class VideoPlan:
    """The samples a video needs, and what the result needs besides.

    Attributes:
        samples: The model samples, in order.
        context: Task data for :meth:`InferenceTask.build_result` (window
            starts, the question as read, ...).
    """
    samples: List[SampleSpec]
    context: dict = field(default_factory=dict)


@dataclass
class Prediction:
    """The model's output for one sample.

    Attributes:
        sample: The data sample the head's ``predict`` filled
            (``pred_label``, ``pred_score``, ``pred_logits``, ...), on the
            CPU.
        head_outputs: This sample's row of each tensor the head's forward
            returned (e.g. AVE's ``class_logits``), on the CPU.
    """
    sample: AVDataSample
    head_outputs: Dict[str, Tensor]


def topk_entries(probabilities: Tensor, names: Sequence[str], k: int,
                 key: str = 'label') -> List[dict]:
    """The ``k`` most probable entries, best first:
    ``[{key: index, 'name': names[index], 'probability': p}, ...]``."""
    values, indices = probabilities.topk(min(k, len(probabilities)))
    return [
        {key: int(i), 'name': names[int(i)], 'probability': float(v)}
        for v, i in zip(values, indices)
    ]


class InferenceTask:
    """Base class of the tasks :class:`~molt.apis.AVInferencer` runs.

    A task is chosen by the type of the config's test dataset
    (:attr:`dataset_type`), whose settings it reads (segments per sample,
    class names, vocabulary), so inference follows the protocol the model
    was trained and tested with.

    Args:
        dataset: The config's test dataset, built with ``lazy_init=True``.
        model: The loaded model (``dataset_meta`` attached, see
            :func:`~molt.apis.init_model`).
        pipeline: The test pipeline without its file loaders.
        topk: Entries in each top-k list.
        window_overlap: Seconds shared by consecutive windows (tasks that
            cover long videos with windows).
    """

    #: Short name, in results and messages.
    name = ''
    #: The dataset class whose protocol the task follows.
    dataset_type: type = BaseDataset
    #: Whether the task reads a question.
    needs_question = False

    def __init__(self, dataset: BaseDataset, model: nn.Module,
                 pipeline: InferencePipeline, topk: int = 5,
                 window_overlap: int = 0):
        self.dataset = dataset
        self.model = model
        self.pipeline = pipeline
        self.topk = topk
        self.window_overlap = window_overlap

    @property
    def max_seconds(self) -> Optional[int]:
        """Seconds of a video the task reads at most (None: all)."""
        return None

    def plan(self, video: VideoMedia, question: Optional[str]) -> VideoPlan:
        """The samples of ``video`` (raises
        :class:`~molt.apis.VideoInputError` when it cannot be used)."""
        raise NotImplementedError

    def build_result(self, video: VideoMedia, plan: VideoPlan,
                     predictions: List[Prediction]) -> dict:
        """The video's result (plain Python; AVS masks as numpy arrays),
        from the predictions of its samples in :meth:`plan` order."""
        raise NotImplementedError

    def draw(self, result: dict, video: VideoMedia) -> Pictures:
        """The pictures of a result."""
        raise NotImplementedError

    def headline(self, result: dict) -> str:
        """One line saying what the model found."""
        raise NotImplementedError

    def base_result(self, video: VideoMedia) -> dict:
        """The fields every result has."""
        return dict(
            video=video.path,
            task=self.name,
            status='done',
            num_seconds=video.num_seconds,
            video_seconds=round(video.media.video_seconds, 3),
            frame_size=list(video.frame_size),
            notes=list(video.notes))

    @staticmethod
    def stack(predictions: List[Prediction], field_name: str) -> Tensor:
        """A prediction field of every sample, stacked: ``(S, ...)``."""
        return torch.stack(
            [p.sample.get(field_name) for p in predictions]).float()

    @staticmethod
    def head_output(predictions: List[Prediction], key: str,
                    head: nn.Module) -> Tensor:
        """A raw head output of every sample, stacked: ``(S, ...)``."""
        if any(key not in p.head_outputs for p in predictions):
            raise KeyError(
                f'{type(head).__name__} returns no {key!r} from its forward; '
                'the inferencer needs it for the probabilities it reports.')
        return torch.stack([p.head_outputs[key]
                            for p in predictions]).float()
