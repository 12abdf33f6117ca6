"""No adapter at all: the frozen backbones' last block, read as it is."""
from typing import Dict, List, Optional

from torch import Tensor

from molt.registry import MODELS
from ..utils import BackboneLayout
from .base import MODALITIES, BaseAdapterScheme

__all__ = ['FrozenReadout']


@MODELS.register_module()
class FrozenReadout(BaseAdapterScheme):
    """The floor of every comparison: the task head reads the tokens of each
    frozen backbone's last block, unchanged (no trainable parameter here;
    the token norm and the head still learn).

    A parallel scheme (its features can be cached).

    Args:
        visual: Layout of the visual backbone (filled in by the model).
        audio: Layout of the audio backbone (filled in by the model).
    """

    is_parallel = True

    def __init__(self,
                 visual: BackboneLayout,
                 audio: BackboneLayout,
                 init_cfg: Optional[dict] = None):
        super().__init__(visual, audio, init_cfg=init_cfg)

    @property
    def out_dims(self) -> Dict[str, int]:
        return {name: self.layouts[name].dims[-1] for name in MODALITIES}

    def layers(self, modality: str) -> List[int]:
        return [self.layouts[modality].num_layers - 1]

    def forward(self, visual_feats: List[Tensor],
                audio_feats: List[Tensor]) -> Dict[str, List[Tensor]]:
        """Args: one ``(B, N_m, C_m)`` tensor per modality (the last
        block's). Returns: the same tensors, as the layer-wise tokens."""
        return dict(visual=list(visual_feats), audio=list(audio_feats))
