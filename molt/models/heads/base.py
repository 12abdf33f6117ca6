"""The contract between the model and a task head."""
from typing import Dict, List, Optional

from mmengine.model import BaseModule
from torch import Tensor

from molt.structures import AVDataSample

__all__ = ['BaseAVHead']


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
