"""The contract between the model and a task head, and checks the heads
share."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor

from molt.structures import AVDataSample

__all__ = ['BaseAVHead', 'require_vocabulary_sizes', 'gather_masks']


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
