"""AVS head: the AVSBench decoder (Zhou et al., ECCV 2022) with TPAVI, as
DG-SCT and AVMoE use it on Swin-V2-L + HTS-AT features."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmcv.cnn import ConvModule
from mmcv.cnn.bricks.non_local import NonLocal3d
from mmcv.cnn.bricks.transformer import MultiheadAttention
from mmengine.model.weight_init import constant_init, normal_init
from mmseg.models.decode_heads.aspp_head import ASPPModule
from mmseg.models.utils import resize
from torch import Tensor, nn
from torch.nn import functional as F

from molt.registry import MODELS
from molt.structures import AVDataSample
from ..layers import TemporalRelationModule
from .base import BaseAVHead, gather_masks

__all__ = [
    'AVSBenchHead', 'SummedASPP', 'TokenReader', 'TPAVI', 'ResidualConvUnit',
    'FusionBlock'
]


class SummedASPP(ASPPModule):
    """AVSBench's ``Classifier_Module`` (DeepLab-v2 ASPP): the sum of
    parallel dilated 3x3 convolutions with bias, no norm or activation;
    weights start from N(0, 0.01) as in AVSBench."""

    def __init__(self, in_channels: int, channels: int,
                 dilations: Sequence[int]):
        super().__init__(tuple(dilations), in_channels, channels, None, None,
                         None)
        for module in self:
            normal_init(module.conv, std=0.01)

    def forward(self, x: Tensor) -> Tensor:
        return sum(super().forward(x))


class TPAVI(NonLocal3d):
    """Temporal pixel-wise audio-visual interaction (AVSBench's
    ``TPAVIModule``, ``mode='dot'``): a non-local block over the ``T x H x
    W`` positions of a clip whose keys ``phi`` read the frame's audio,
    broadcast over its positions::

        a = W_align audio                            (B, T, C)
        y = theta(x) phi(a)^T g(x) / (T H W)         dot-product non-local
        z = LN_C(x + BN(W_z y))

    Built from mmcv's :class:`NonLocal3d` (``g``/``theta``/``phi`` 1x1x1
    convs to ``C / 2``, ``conv_out`` conv + BN3d; mmcv drops the conv bias
    before the BN) and initialised as AVSBench: PyTorch's default for the
    convs, the BN at zero. ``y`` is computed as ``theta (phi^T g) / N``,
    which equals the reference's ``(theta phi^T) g / N`` without the
    ``N x N`` matrix.

    Args:
        in_channels: ``C``.
        audio_dims: Width of the audio input (AVSBench: 128).
    """

    def __init__(self, in_channels: int, audio_dims: int):
        super().__init__(
            in_channels,
            reduction=2,
            norm_cfg=dict(type='BN3d'),
            mode='dot_product')
        self.align_channel = nn.Linear(audio_dims, in_channels)
        self.norm = nn.LayerNorm(in_channels)

    def init_weights(self) -> None:
        # mmcv's N(0, 0.01) convs would leave the attention branch about
        # 1e-6 of its input (three such maps, divided by T H W).
        for module in (self.g, self.theta, self.phi, self.conv_out):
            module.conv.reset_parameters()
        constant_init(self.conv_out.norm, 0)

    def forward(self, x: Tensor, audio: Tensor) -> Tuple[Tensor, Tensor]:
        """Args:
            x: Maps ``(B, C, T, H, W)``.
            audio: ``(B, T, audio_dims)``.

        Returns:
            ``z`` ``(B, C, T, H, W)`` and the aligned audio ``a``
            ``(B, T, C)``.
        """
        aligned = self.align_channel(audio)
        g_x = self.g(x).sum((-2, -1))  # phi is constant within a frame
        phi_a = self.phi(aligned.transpose(1, 2)[..., None, None])
        context = torch.einsum('bit,bjt->bij', phi_a.flatten(2), g_x)
        context = context / x.shape[2:].numel()
        y = torch.einsum('bij,bithw->bjthw', context, self.theta(x))
        z = x + self.conv_out(y)
        return self.norm(z.movedim(1, -1)).movedim(-1, 1), aligned


class ResidualConvUnit(nn.Module):
    """AVSBench's (DPT's) residual conv unit as it computes:
    ``conv2(ReLU(conv1(ReLU(x)))) + ReLU(x)``. Its ReLU is in place, so the
    skip connection carries the rectified input; mmcv ConvModules with
    bias, no norm.

    Args:
        channels: Input and output channels.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = ConvModule(channels, channels, 3, padding=1)
        self.conv2 = ConvModule(channels, channels, 3, padding=1,
                                act_cfg=None)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(x)
        return self.conv2(self.conv1(x)) + x


class FusionBlock(nn.Module):
    """AVSBench's ``FeatureFusionBlock``: ``x (+ RCU1(skip))``, ``RCU2``,
    then 2x bilinear upsampling (``align_corners=True``).

    Args:
        channels: Channels of both inputs.
        with_skip: Build ``RCU1`` (AVSBench builds it for the deepest
            block too, which has no skip input and never uses it).
    """

    def __init__(self, channels: int, with_skip: bool = True):
        super().__init__()
        self.skip_unit = ResidualConvUnit(channels) if with_skip else None
        self.unit = ResidualConvUnit(channels)

    def forward(self, x: Tensor, skip: Optional[Tensor] = None) -> Tensor:
        if skip is not None:
            x = x + self.skip_unit(skip)
        return F.interpolate(
            self.unit(x), scale_factor=2, mode='bilinear', align_corners=True)


class TokenReader(nn.Module):
    """molt's way in for the fused tokens: every position of a reduced map
    attends to its frame's fused visual and audio tokens, with a residual
    (``x + MHA(LN(x), [W_v z_v; W_a z_a])``, mmcv's attention).

    Args:
        channels: Width of the maps.
        visual_dims: Width of the visual tokens.
        audio_dims: Width of the audio tokens.
        num_heads: Attention heads.
        num_stages: Maps read (one attention each).
    """

    def __init__(self, channels: int, visual_dims: int, audio_dims: int,
                 num_heads: int, num_stages: int):
        super().__init__()
        self.visual_proj = nn.Linear(visual_dims, channels)
        self.audio_proj = nn.Linear(audio_dims, channels)
        self.token_norm = nn.LayerNorm(channels)
        self.query_norms = nn.ModuleList(
            nn.LayerNorm(channels) for _ in range(num_stages))
        self.attns = nn.ModuleList(
            MultiheadAttention(channels, num_heads, batch_first=True)
            for _ in range(num_stages))

    def tokens(self, visual: Tensor, audio: Tensor) -> Tensor:
        """``(F, N_v, visual_dims)``, ``(F, N_a, audio_dims)`` -> ``(F,
        N_v + N_a, channels)``."""
        return self.token_norm(
            torch.cat([self.visual_proj(visual),
                       self.audio_proj(audio)], 1))

    def forward(self, x: Tensor, tokens: Tensor, stage: int) -> Tensor:
        """``(F, C, H, W)`` maps of ``stage`` -> ``(F, C, H, W)``."""
        height, width = x.shape[-2:]
        query = x.flatten(2).transpose(1, 2)
        out = self.attns[stage](
            self.query_norms[stage](query), tokens, tokens, identity=query)
        return out.transpose(1, 2).unflatten(2, (height, width))


@MODELS.register_module()
class AVSBenchHead(BaseAVHead):
    """The AVSBench decoder as DG-SCT and AVMoE put it on Swin-V2-L +
    HTS-AT, fed by MoLT.

    Per frame, for the visual backbone's four stage maps ``s``:

    1. channel reduction to ``channels`` (256): ``'aspp'`` (AVSBench's
       :class:`SummedASPP`, dilations 3/6/12/18; DG-SCT/AVMoE build these
       too, at PVT widths, but bypass them) or ``'linear'`` (what
       DG-SCT/AVMoE run: a per-position linear map, i.e. a 1x1 conv), then
       a bicubic resize to AVSBench's grids ``decode_size / 4 / 2^s``
       (DG-SCT/AVMoE resize Swin-V2's 48/24/12/6 to 56/28/14/7 the same
       way);
    2. (molt, ``token_heads > 0``) :class:`TokenReader`: the positions read
       the frame's fused MoLT tokens. The peers' maps come from a backbone
       their adapters modify; MoLT's backbone is frozen and what the
       adapters learn lives in the fused tokens, so this is where it enters
       the decoder;
    3. audio ``a = W_a mean(z_a)`` (``audio_channels``, 128; AVMoE's mean
       over HTS-AT tokens, DG-SCT/AVMoE's ``audio_linear``);
    4. (``temporal``) DG-SCT/AVMoE's temporal gating: per stage a
       :class:`TemporalRelationModule` (CMBS's BiLSTMs + self-attention,
       no cross-modal decoders: the peers build them but drop their
       outputs) reads the spatially averaged maps and ``a`` over the ``T``
       frames; ``x_s <- x_s (1 + s g_a^(s))``, then ``a <- a (1 + s
       mean_s g_v^(s))``, ``s = gate_scale`` (S4 0.05, MS3 0.1);
    5. :class:`TPAVI` per stage across the ``T`` frames of the clip;
    6. four :class:`FusionBlock` from the deepest stage up, and AVSBench's
       output convs (``channels -> 128``, 2x up, ``128 -> 32``, ReLU,
       ``32 -> 1``) give logits at ``decode_size``, resized to
       ``mask_size`` when they differ.

    Frames interact (TPAVI, temporal gating), so every frame is decoded
    even when only some are labelled (S4 training labels the first;
    AVSBench also feeds all five frames there).

    Losses: ``loss_bce`` BCE of the logits over the labelled frames
    (``mask_valid``; AVSBench S4: first frame, MS3: all five).
    ``loss_match`` (``match_loss_weight``; AVSBench/DG-SCT/AVMoE MS3: 0.5,
    S4: off) is AVSBench's ``A_MaskedV_SimmLoss`` as their MS3 scripts run
    it (``--kl_flag``, stages 0-3, average mask pooling, no feature
    normalisation or threshold), over all frames: per stage, the predicted
    logits are average-pooled to the map's grid and passed through a
    sigmoid, the rectified TPAVI output is weighted by them and averaged
    over positions, ``v`` ``(BT, C)``, and ``KL(softmax(a_s) ||
    softmax(v))`` is summed over frames and channels (``reduction='sum'``,
    so it grows with the batch) with ``a_s`` TPAVI's aligned audio; the
    mean over the stages is weighted. The maps are rectified because
    AVSBench's fusion blocks apply their in-place ReLU to the very tensors
    the loss then reads.

    Not built: what the peers build and never run: PVT-width ASPPs and
    projections (``x*_linear``), the CMRA decoders of the temporal gating
    and the deepest fusion block's skip unit.

    Args:
        visual_dims: Width of the fused visual tokens (filled in by the
            model).
        audio_dims: Width of the fused audio tokens (filled in by the
            model).
        in_channels: Channels of the four stage maps (Swin-V2-L: 192, 384,
            768, 1536; filled in by the model).
        channels: Width of the decoder (256).
        audio_channels: Width of the audio fed to the gating and TPAVI
            (128).
        reduction: ``'aspp'`` or ``'linear'``.
        aspp_dilations: Dilations of ``'aspp'``.
        token_heads: Heads of the :class:`TokenReader`; 0 leaves the fused
            visual tokens unread.
        temporal: Keyword arguments of the per-stage
            :class:`TemporalRelationModule` (``d_model``, ``ffn_dims``,
            ``num_heads``, ``num_layers``), or None to skip the gating.
        gate_scale: ``s`` of the gating (official: S4 0.05, MS3 0.1).
        output_channels: Widths of AVSBench's output convs (128, 32).
        mask_size: ``(H, W)`` (or one int) of the predicted logits; the
            ground-truth masks must have it (AVSBench: 224).
        decode_size: Size the decoder works at (defaults to
            ``mask_size``); a multiple of 32.
        match_loss_weight: Weight of ``loss_match``; 0 disables it.
    """

    needs_stage_maps = True

    def __init__(self,
                 visual_dims: int,
                 audio_dims: int,
                 in_channels: Sequence[int],
                 channels: int = 256,
                 audio_channels: int = 128,
                 reduction: str = 'aspp',
                 aspp_dilations: Sequence[int] = (3, 6, 12, 18),
                 token_heads: int = 8,
                 temporal: Optional[dict] = dict(
                     d_model=256, ffn_dims=1024, num_heads=4, num_layers=2),
                 gate_scale: float = 0.1,
                 output_channels: Sequence[int] = (128, 32),
                 mask_size: Union[int, Sequence[int]] = 224,
                 decode_size: Union[int, Sequence[int], None] = None,
                 match_loss_weight: float = 0.0,
                 init_cfg: Optional[dict] = None):
        super().__init__(visual_dims, audio_dims, init_cfg=init_cfg)
        self.in_channels = list(in_channels)
        self.mask_size = _pair(mask_size)
        self.decode_size = _pair(decode_size or mask_size)
        if any(size % 32 for size in self.decode_size):
            raise ValueError(
                f'model.head.decode_size={self.decode_size} must be a '
                'multiple of 32: the decoder works on grids of 1/4 to 1/32 '
                'of it and doubles them back. Set model.head.decode_size '
                '(e.g. 224, or 64 for tiny backbones); the logits are '
                'resized to mask_size.')
        self.grid_sizes = [
            tuple(size // 4 // 2**stage for size in self.decode_size)
            for stage in range(len(self.in_channels))
        ]
        if reduction == 'linear':
            self.reductions = nn.ModuleList(
                nn.Conv2d(c, channels, 1) for c in self.in_channels)
        elif reduction == 'aspp':
            self.reductions = nn.ModuleList(
                SummedASPP(c, channels, aspp_dilations)
                for c in self.in_channels)
        else:
            raise ValueError(
                f"model.head.reduction={reduction!r}: use 'linear' "
                "(DG-SCT/AVMoE) or 'aspp' (AVSBench).")
        num_stages = len(self.in_channels)
        self.token_reader = (TokenReader(channels, visual_dims, audio_dims,
                                         token_heads, num_stages)
                             if token_heads else None)
        self.audio_fc = nn.Linear(audio_dims, audio_channels)
        self.temporal = None
        if temporal is not None:
            self.temporal = nn.ModuleList(
                TemporalRelationModule(
                    channels, audio_channels, visual_fc_dims=channels,
                    audio_fc_dims=None, with_queries=False, **temporal)
                for _ in range(num_stages))
        self.gate_scale = gate_scale
        self.tpavis = nn.ModuleList(
            TPAVI(channels, audio_channels) for _ in range(num_stages))
        self.fusions = nn.ModuleList(
            FusionBlock(channels, with_skip=stage < num_stages - 1)
            for stage in range(num_stages))
        hidden, narrow = output_channels
        self.output_conv = nn.Sequential(
            nn.Conv2d(channels, hidden, 3, padding=1),
            nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False),
            nn.Conv2d(hidden, narrow, 3, padding=1), nn.ReLU(),
            nn.Conv2d(narrow, 1, 1))
        self.match_loss_weight = match_loss_weight

    def _gate(self, maps: List[Tensor], audio: Tensor) -> Tensor:
        """DG-SCT/AVMoE's temporal gating, in place on ``maps`` (each ``(B,
        T, C, H, W)``); returns the gated audio ``(B, T, C_a)``."""
        visual_gates = []
        for stage, module in enumerate(self.temporal):
            gates = module(maps[stage].mean((-2, -1)), audio)
            scale = 1 + self.gate_scale * gates['audio_gate']
            maps[stage] = maps[stage] * scale[..., None, None]
            visual_gates.append(gates['visual_gate'])
        mean_gate = torch.stack(visual_gates).mean(0)
        return audio * (1 + self.gate_scale * mean_gate)

    def decode(self, feats: Dict[str, Tensor]) -> Dict[str, object]:
        """Runs the decoder on every frame.

        Args:
            feats: See :class:`BaseAVHead`; ``visual_maps`` are ``(B, T,
                C_s, H_s, W_s)``, tokens ``(B, T, N, C)``.

        Returns:
            ``logits`` ``(B, T, H, W)`` at ``mask_size``; per stage the
            TPAVI outputs ``maps`` ``(B*T, C, h_s, w_s)`` and aligned audio
            ``audio`` ``(B, T, C)`` (what the matching loss reads).
        """
        channels = [m.shape[2] for m in feats['visual_maps']]
        if channels != self.in_channels:
            raise ValueError(
                f'model.head.in_channels={self.in_channels} does not match '
                f'the visual stage maps, which have {channels} channels; set '
                "it to the visual backbone's stage_dims.")
        visual, audio_tokens = feats['visual'], feats['audio']
        batch, steps = visual.shape[:2]
        tokens = None
        if self.token_reader is not None:
            tokens = self.token_reader.tokens(visual.flatten(0, 1),
                                              audio_tokens.flatten(0, 1))
        maps = []
        for stage, (feat, reduce) in enumerate(
                zip(feats['visual_maps'], self.reductions)):
            x = reduce(feat.flatten(0, 1))
            if tuple(x.shape[-2:]) != self.grid_sizes[stage]:
                x = resize(x, self.grid_sizes[stage], mode='bicubic',
                           align_corners=False)
            if tokens is not None:
                x = self.token_reader(x, tokens, stage)
            maps.append(x.unflatten(0, (batch, steps)))
        audio = self.audio_fc(audio_tokens.mean(2))
        if self.temporal is not None:
            audio = self._gate(maps, audio)
        stage_maps, stage_audio = [], []
        for x, tpavi in zip(maps, self.tpavis):
            z, aligned = tpavi(x.transpose(1, 2), audio)
            stage_maps.append(z.transpose(1, 2).flatten(0, 1))
            stage_audio.append(aligned)
        x = self.fusions[-1](stage_maps[-1])
        for fusion, skip in zip(self.fusions[-2::-1], stage_maps[-2::-1]):
            x = fusion(x, skip)
        logits = self.output_conv(x)
        if tuple(logits.shape[-2:]) != self.mask_size:
            logits = resize(logits, self.mask_size, mode='bilinear',
                            align_corners=False)
        return dict(
            logits=logits.squeeze(1).unflatten(0, (batch, steps)),
            maps=stage_maps,
            audio=stage_audio)

    def forward(self, feats: Dict[str, Tensor]) -> Tensor:
        """Logits ``(B, T, H, W)`` at ``mask_size``."""
        return self.decode(feats)['logits']

    @staticmethod
    def match_loss(logits: Tensor, maps: List[Tensor],
                   audio: List[Tensor]) -> Tensor:
        """AVSBench's audio - masked-visual matching (KL) loss.

        Args:
            logits: ``(B*T, H, W)`` predicted logits.
            maps: Per stage TPAVI outputs ``(B*T, C, h, w)``.
            audio: Per stage aligned audio ``(B, T, C)``.
        """
        total = 0
        for v_map, a_fea in zip(maps, audio):
            weights = F.adaptive_avg_pool2d(logits.unsqueeze(1),
                                            v_map.shape[-2:]).sigmoid()
            visual = (F.relu(v_map) * weights).mean((-2, -1))
            total = total + F.kl_div(
                F.log_softmax(visual, -1),
                F.softmax(a_fea.flatten(0, 1), -1),
                reduction='sum')
        return total / len(maps)

    def loss(self, feats: Dict[str, Tensor],
             data_samples: List[AVDataSample]) -> Dict[str, Tensor]:
        masks, valid = gather_masks(data_samples, self.mask_size,
                                    feats['visual'].device)
        decoded = self.decode(feats)
        logits = decoded['logits']
        losses = dict(
            loss_bce=F.binary_cross_entropy_with_logits(
                logits[valid], masks[valid].float()))
        if self.match_loss_weight:
            losses['loss_match'] = self.match_loss_weight * self.match_loss(
                logits.flatten(0, 1), decoded['maps'], decoded['audio'])
        return losses

    def predict(self, feats: Dict[str, Tensor],
                data_samples: List[AVDataSample]) -> List[AVDataSample]:
        """Writes ``pred_logits`` ``(T, H, W)`` into each sample."""
        for sample, logits in zip(data_samples, self(feats)):
            sample.pred_logits = logits
        return data_samples


def _pair(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    return (size, size) if isinstance(size, int) else tuple(size)
