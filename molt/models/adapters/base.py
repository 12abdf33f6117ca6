"""The contract between the model and an adapter scheme."""
from typing import Any, Dict, List, Optional

from mmengine.model import BaseModule
from torch import Tensor

from ..utils import BackboneLayout

__all__ = ['BaseAdapterScheme', 'MODALITIES']

MODALITIES = ('visual', 'audio')


class BaseAdapterScheme(BaseModule):
    """Base class of molt's adapter schemes.

    A scheme turns the two frozen backbones into layer-wise tokens per
    modality. :class:`~molt.models.AVModel` builds it with the layouts of
    both backbones (``visual``, ``audio``, filled in by the model) and
    relies on nothing but what this class declares:

    * :attr:`is_parallel` says how the scheme is called.

      - A **parallel** scheme (``True``, e.g. :class:`MoLTAdapter`) reads
        frozen features. The model runs each backbone under
        ``torch.no_grad()``, only as deep as the deepest block of
        :meth:`layers`, and calls ``forward(visual_feats, audio_feats)``
        with one ``(B, N_l, C_l)`` tensor per entry of ``layers(m)``, in
        that order. Such features can be cached.
      - A **sequential** scheme (``False``, e.g. :class:`LAVisHAdapter`)
        places adapters inside the blocks and drives the backbones itself,
        with gradients through them: ``forward(visual_input, audio_input,
        visual_backbone, audio_backbone, return_stage_maps=False)`` with
        the images ``(B, 3, H, W)``, the audio backbone's input and the two
        :class:`~molt.models.backbones.FrozenSwinBackbone` (the same object
        when one backbone reads both modalities).

    * :attr:`out_dims` gives the width of each modality's tokens; the
      model builds the fusions, token norms and head with it.
    * :meth:`layers` gives the blocks whose tokens ``forward`` returns, one
      token set each; the model builds each modality's fusion for that
      many sets.
    * :meth:`adapter_losses` adds the scheme's own training terms.

    ``forward`` returns a dict with, for ``B`` backbone inputs (frames, or
    one-second audio segments):

    * ``visual`` / ``audio``: lists of ``len(layers(m))`` token tensors
      ``(B, N, out_dims[m])``, the layer-wise tokens, in the order of
      :meth:`layers`;
    * optionally ``visual_router`` / ``audio_router``: lists of mixing
      weights (``(B, E)`` or ``(B, N, E)``), handed on to the head's
      ``feats`` and to :meth:`adapter_losses`;
    * for a sequential scheme with ``return_stage_maps``, ``visual_maps``:
      the four adapted visual stage maps ``(B, C_s, H_s, W_s)`` (a parallel
      scheme's maps come from the frozen backbone).

    Args:
        visual: Layout of the visual backbone.
        audio: Layout of the audio backbone.

    Attributes:
        layouts: ``{'visual': visual, 'audio': audio}``.
    """

    #: Reads frozen features (True) or drives the backbones itself (False).
    is_parallel: bool = False

    def __init__(self,
                 visual: BackboneLayout,
                 audio: BackboneLayout,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.layouts = dict(visual=visual, audio=audio)

    @property
    def out_dims(self) -> Dict[str, int]:
        """Width of the tokens this scheme gives each modality."""
        raise NotImplementedError

    def layers(self, modality: str) -> List[int]:
        """Flat indices of the blocks of ``modality``'s backbone whose
        tokens :meth:`forward` returns, one token set per block, in order.

        A parallel scheme reads exactly these blocks' outputs; a sequential
        scheme returns the tokens leaving its last block.

        Args:
            modality: ``'visual'`` or ``'audio'``.
        """
        raise NotImplementedError

    def adapter_losses(self, feats: Dict[str, Any]) -> Dict[str, Tensor]:
        """The scheme's own training terms (keys start with ``loss``),
        computed from the model's ``feats`` (which hold what
        :meth:`forward` returned besides the tokens, e.g. router weights);
        none by default."""
        return {}
