"""The contract between the model and a task head, and checks the heads
share."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor

from molt.structures import AVDataSample

__all__ = [
    'BaseAVHead', 'BaseAVEHead', 'BaseAVQAHead', 'require_vocabulary_sizes',
    'gather_masks'
]


def require_vocabulary_sizes(head: str, num_answers: Optional[int],
                             vocab_size: Optional[int]) -> None:
    """Raises unless an AVQA head got its vocabulary sizes.

    Args:
        head: The head's class name, for the message.
        num_answers: Answers in the training vocabulary.
        vocab_size: Question words in the training vocabulary.
    """
    missing = [
        name for name, value in (('num_answers', num_answers),
                                 ('vocab_size', vocab_size)) if value is None
    ]
    if missing:
        raise ValueError(
            f'{head}: {", ".join(missing)} left None. They are the sizes of '
            'the training vocabulary: tools/train.py and tools/test.py fill '
            "them from the dataset's (or the checkpoint's) metainfo; "
            'elsewhere set them, e.g. --cfg-options '
            'model.head.num_answers=42 model.head.vocab_size=93.')


def gather_masks(data_samples: Sequence[AVDataSample], mask_size: tuple,
                 device: torch.device) -> Tuple[Tensor, Tensor]:
    """The batch's ground-truth masks ``(B, T, H, W)`` and which frames
    have one (``mask_valid``, ``(B, T)`` bool), checked against the head's
    ``mask_size``."""
    valid = torch.stack([s.mask_valid for s in data_samples]).to(
        device=device, dtype=torch.bool)
    masks = torch.stack([s.gt_masks for s in data_samples]).to(device)
    if tuple(masks.shape[-2:]) != tuple(mask_size):
        raise ValueError(
            f'gt_masks are {tuple(masks.shape[-2:])} but model.head.mask_size '
            f'is {tuple(mask_size)}; resize the masks in the pipeline '
            '(ResizeMasks) or change mask_size.')
    return masks, valid


class BaseAVHead(BaseModule):
    """Base class of molt's task heads.

    A head receives ``feats`` from :meth:`AVModel.extract_feat`:

    * ``visual``: fused visual tokens ``(B, T, N, visual_dims)``;
    * ``audio``: fused audio tokens ``(B, T, N, audio_dims)``;
    * ``visual_maps`` (when :attr:`needs_stage_maps`): the visual
      backbone's four stage maps, each ``(B, T, C_s, H_s, W_s)``;
    * any extra model input (e.g. ``question`` token ids ``(B, L)``).

    ``T`` is the number of segments (frames) per sample.

    Args:
        visual_dims: Width of the visual tokens (filled in by the model).
        audio_dims: Width of the audio tokens (filled in by the model).
    """

    #: Set by dense heads that decode the visual stage maps.
    needs_stage_maps = False

    def __init__(self, visual_dims: int, audio_dims: int,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.visual_dims = visual_dims
        self.audio_dims = audio_dims

    def example_inputs(self, batch_size: int) -> Dict[str, Tensor]:
        """Random extra model inputs this head reads (e.g. question ids),
        for benchmarks and smoke runs; frames and audio are not included."""
        return {}

    def forward(self, feats: Dict[str, Tensor]):
        """Raw outputs (logits) for ``mode='tensor'``."""
        raise NotImplementedError

    def loss(self, feats: Dict[str, Tensor],
             data_samples: List[AVDataSample]) -> Dict[str, Tensor]:
        """Task losses; keys start with ``loss``."""
        raise NotImplementedError

    def predict(self, feats: Dict[str, Tensor],
                data_samples: List[AVDataSample]) -> List[AVDataSample]:
        """Writes predictions into ``data_samples`` and returns them."""
        raise NotImplementedError


class BaseAVEHead(BaseAVHead):
    """Base of the AVE heads: event relevance per segment and one event
    class per video.

    A subclass's :meth:`forward` returns at least ``event_logits``
    ``(B, T)`` (event vs background per segment) and ``class_logits``
    ``(B, num_classes)`` (the video's event class). :meth:`predict` applies
    the AVE prediction rule of the peers (CMBS's
    ``compute_accuracy_supervised``): a segment is the video's class
    ``argmax class_logits`` where ``sigmoid(event_logits) >
    event_threshold`` and background (label ``num_classes``) elsewhere, so
    predictions range over ``num_classes + 1`` labels.

    Args:
        visual_dims: Width of the visual tokens (filled in by the model).
        audio_dims: Width of the audio tokens (filled in by the model).
        num_classes: Event classes (28 for AVE), background excluded.
        event_threshold: Relevance probability above which a segment holds
            the event.
    """

    def __init__(self,
                 visual_dims: int,
                 audio_dims: int,
                 num_classes: int,
                 event_threshold: float = 0.5,
                 init_cfg: Optional[dict] = None):
        super().__init__(visual_dims, audio_dims, init_cfg=init_cfg)
        self.num_classes = num_classes
        self.event_threshold = event_threshold

    def predict(self, feats: Dict[str, Tensor],
                data_samples: List[AVDataSample]) -> List[AVDataSample]:
        """Writes ``pred_label`` ``(T, )`` (event class or background) and
        ``pred_event_score`` ``(T, )`` (relevance probability) into each
        sample."""
        outputs = self(feats)
        relevance = outputs['event_logits'].sigmoid()
        video_class = outputs['class_logits'].argmax(-1, keepdim=True)
        background = torch.full_like(video_class, self.num_classes)
        pred = torch.where(relevance > self.event_threshold, video_class,
                           background)
        for sample, label, score in zip(data_samples, pred, relevance):
            sample.pred_label = label
            sample.pred_event_score = score
        return data_samples


class BaseAVQAHead(BaseAVHead):
    """Base of the AVQA heads: one answer out of the training vocabulary.

    A subclass's :meth:`forward` returns at least ``answer_logits``
    ``(B, num_answers)`` and reads the question's word ids from
    ``feats['question']`` ``(B, L)``.

    Args:
        visual_dims: Width of the visual tokens (filled in by the model).
        audio_dims: Width of the audio tokens (filled in by the model).
        num_answers: Answers in the training vocabulary.
        vocab_size: Question words in the training vocabulary.

    Raises:
        ValueError: ``num_answers`` or ``vocab_size`` is None (see
            :func:`require_vocabulary_sizes`).
    """

    def __init__(self,
                 visual_dims: int,
                 audio_dims: int,
                 num_answers: Optional[int],
                 vocab_size: Optional[int],
                 init_cfg: Optional[dict] = None):
        super().__init__(visual_dims, audio_dims, init_cfg=init_cfg)
        require_vocabulary_sizes(type(self).__name__, num_answers, vocab_size)
        self.num_answers = num_answers
        self.vocab_size = vocab_size

    def example_inputs(self, batch_size: int) -> Dict[str, Tensor]:
        """Random question ids ``(batch_size, 14)``."""
        return dict(question=torch.randint(1, self.vocab_size,
                                           (batch_size, 14)))

    def predict(self, feats: Dict[str, Tensor],
                data_samples: List[AVDataSample]) -> List[AVDataSample]:
        """Writes ``pred_score`` (softmax over the answers) and
        ``pred_answer`` into each sample."""
        scores = self(feats)['answer_logits'].softmax(-1)
        for sample, score in zip(data_samples, scores):
            sample.pred_score = score
            sample.pred_answer = score.argmax()
        return data_samples
