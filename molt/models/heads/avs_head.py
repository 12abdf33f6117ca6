"""AVS head: token-conditioned stage maps decoded by an mmseg decode head."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

from mmseg.models.utils import resize
from torch import Tensor
from torch.nn import functional as F

from molt.registry import MODELS
from molt.structures import AVDataSample
from ..utils import fill_config
from .base import BaseAVHead, gather_masks
from .token_conditioning import TokenConditionedMaps

__all__ = ['AVSHead']


def soft_iou_loss(logits: Tensor, masks: Tensor) -> Tensor:
    """``1 - IoU`` of ``sigmoid(logits)`` and the masks, per frame, then
    averaged; the +1 smoothing gives an empty mask a defined loss (it
    pushes the prediction to empty).

    Args:
        logits: ``(N, H, W)``.
        masks: ``(N, H, W)`` in ``{0, 1}``.
    """
    probs = logits.sigmoid()
    inter = (probs * masks).sum((1, 2))
    union = (probs + masks - probs * masks).sum((1, 2))
    return (1 - (inter + 1) / (union + 1)).mean()


@MODELS.register_module()
class AVSHead(BaseAVHead):
    """Audio-visual segmentation: the visual backbone's four stage maps,
    conditioned on the fused MoLT tokens of their frame
    (:class:`TokenConditionedMaps`), go through an mmseg decode head built
    from ``decode_head`` (e.g. ``FPNHead`` or ``UPerHead``; swapping it is a
    config edit). The head's one-channel logits are upsampled to
    ``mask_size``.

    The decode head's ``in_channels``/``in_index`` (all scales; FPNHead and
    UPerHead select them as ``'multiple_select'`` themselves),
    ``num_classes=1``, ``out_channels=1``, ``threshold=0.5`` (AVSBench's
    binarisation) and ``loss_decode=[]`` are filled in here. The mask loss
    is computed here rather than by mmseg's ``loss_by_feat``, which cannot
    skip frames without a mask (S4 training labels only the first frame);
    hence no ``loss_decode``. Only labelled frames (``mask_valid``) are
    decoded in :meth:`loss`: frames are independent in this head, so the
    others would cost compute and contribute nothing.

    Loss: ``loss_bce_weight * BCE + loss_iou_weight * (1 - soft IoU)`` over
    the labelled frames.

    Args:
        visual_dims: Width of the fused visual tokens (filled in by the
            model).
        audio_dims: Width of the fused audio tokens (filled in by the model).
        in_channels: Channels of the visual backbone's four stage maps
            (Swin-V2-L: 192, 384, 768, 1536; filled in by the model).
        decode_head: Config of the mmseg decode head.
        embed_dims: Width of the conditioned maps fed to the decode head.
        num_heads: Attention heads of the conditioning.
        num_groups: GroupNorm groups of the conditioning.
        mask_size: ``(H, W)`` (or one int) of the predicted logits; the
            ground-truth masks must have it (AVSBench: 224).
        loss_bce_weight: Weight of the binary cross-entropy.
        loss_iou_weight: Weight of the soft-IoU term (0 disables it).
    """

    needs_stage_maps = True

    def __init__(self,
                 visual_dims: int,
                 audio_dims: int,
                 in_channels: Sequence[int],
                 decode_head: dict,
                 embed_dims: int = 64,
                 num_heads: int = 4,
                 num_groups: int = 8,
                 mask_size: Union[int, Sequence[int]] = 224,
                 loss_bce_weight: float = 1.0,
                 loss_iou_weight: float = 0.0,
                 init_cfg: Optional[dict] = None):
        super().__init__(visual_dims, audio_dims, init_cfg=init_cfg)
        self.in_channels = list(in_channels)
        self.mask_size: Tuple[int, int] = (
            (mask_size, mask_size) if isinstance(mask_size, int) else
            tuple(mask_size))
        self.loss_bce_weight = loss_bce_weight
        self.loss_iou_weight = loss_iou_weight
        self.conditioning = TokenConditionedMaps(self.in_channels,
                                                 visual_dims, audio_dims,
                                                 embed_dims, num_heads,
                                                 num_groups)
        num_scales = len(self.in_channels)
        self.decode_head = MODELS.build(
            fill_config(
                decode_head,
                dict(
                    in_channels=[embed_dims] * num_scales,
                    in_index=list(range(num_scales)),
                    num_classes=1,
                    out_channels=1,
                    threshold=0.5,
                    loss_decode=[]), 'model.head.decode_head'))

    def _decode(self, feats: Dict[str, Tensor],
                frames: Optional[Tensor] = None) -> Tensor:
        """Logits of the selected frames.

        Args:
            feats: See :class:`BaseAVHead`; ``visual_maps`` are
                ``(B, T, C_s, H_s, W_s)``, tokens ``(B, T, N, C)``.
            frames: Bool ``(B, T)`` selecting frames, or None for all.

        Returns:
            ``(F, H, W)`` logits at ``mask_size`` for the ``F`` selected
            frames (in ``(B, T)`` row-major order).
        """
        maps = feats['visual_maps']
        channels = [m.shape[2] for m in maps]
        if channels != self.in_channels:
            raise ValueError(
                f'model.head.in_channels={self.in_channels} does not match '
                f'the visual stage maps, which have {channels} channels; set '
                "it to the visual backbone's stage_dims.")

        def pick(x: Tensor) -> Tensor:
            return x.flatten(0, 1) if frames is None else x[frames]

        conditioned = self.conditioning([pick(m) for m in maps],
                                        pick(feats['visual']),
                                        pick(feats['audio']))
        logits = self.decode_head(conditioned)  # (F, 1, h, w)
        logits = resize(
            logits,
            size=self.mask_size,
            mode='bilinear',
            align_corners=self.decode_head.align_corners)
        return logits.squeeze(1)

    def forward(self, feats: Dict[str, Tensor]) -> Tensor:
        """Logits ``(B, T, H, W)`` at ``mask_size``."""
        batch, steps = feats['visual'].shape[:2]
        return self._decode(feats).unflatten(0, (batch, steps))

    def loss(self, feats: Dict[str, Tensor],
             data_samples: List[AVDataSample]) -> Dict[str, Tensor]:
        masks, valid = gather_masks(data_samples, self.mask_size,
                                    feats['visual'].device)
        masks = masks[valid].float()
        logits = self._decode(feats, valid)
        losses = dict(loss_bce=self.loss_bce_weight *
                      F.binary_cross_entropy_with_logits(logits, masks))
        if self.loss_iou_weight:
            losses['loss_iou'] = self.loss_iou_weight * soft_iou_loss(
                logits, masks)
        return losses

    def predict(self, feats: Dict[str, Tensor],
                data_samples: List[AVDataSample]) -> List[AVDataSample]:
        """Writes ``pred_logits`` ``(T, H, W)`` into each sample."""
        for sample, logits in zip(data_samples, self(feats)):
            sample.pred_logits = logits
        return data_samples
