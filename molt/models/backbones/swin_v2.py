"""Frozen Swin-V2 (timm) for frames, or for fbank images in the shared
setting."""
import re
from typing import Optional, Sequence

import timm
from timm.models.swin_transformer_v2 import (SwinTransformerV2,
                                             checkpoint_filter_fn)
from torch import Tensor, nn

from molt.registry import MODELS
from .base import FrozenSwinBackbone
from .fused_attention import enable_fused_window_attention
from .weights import check_weights_file, load_exact, read_state_dict

__all__ = ['SwinV2']


@MODELS.register_module()
class SwinV2(FrozenSwinBackbone):
    """Frozen Swin Transformer V2 read block by block.

    Build it by timm architecture name (``arch='swinv2_large_window12_192'``,
    the paper's visual encoder: 24 blocks, dims 192/384/768/1536, 195.2 M
    parameters without classifier) or, with ``arch=None``, by explicit
    dimensions (tests build tiny ones). Explicit dimensions given together
    with ``arch`` override the architecture's.

    Checkpoints are local files in either layout, told apart by their keys:

    * the original Microsoft release (``{'model': ...}``, patch merging
      stored at the *end* of a stage as ``layers.{i}.downsample``);
    * timm's layout (patch merging at the start of a stage).

    Both go through timm's own ``checkpoint_filter_fn`` (as
    ``timm.create_model(..., pretrained_cfg_overlay=dict(file=path))``
    would), then must fit exactly; the classifier is dropped and logged.

    Args:
        arch: timm model name, or None to use the explicit dims.
        img_size: Input size (square int or ``(H, W)``).
        patch_size: Patch size of the stem.
        embed_dim: Channels of stage 0.
        depths: Blocks per stage.
        num_heads: Attention heads per stage.
        window_size: Attention window.
        in_chans: Input channels.
        fused_attn: Compute the window attention with PyTorch's fused
            ``scaled_dot_product_attention`` (same result; see
            :mod:`.fused_attention`).
        pretrained: Local checkpoint path, or None for random weights.
        init_cfg: mmengine init config (unused: weights come from
            ``pretrained``).
    """

    def __init__(self,
                 arch: Optional[str] = 'swinv2_large_window12_192',
                 img_size: Optional[int] = None,
                 patch_size: Optional[int] = None,
                 embed_dim: Optional[int] = None,
                 depths: Optional[Sequence[int]] = None,
                 num_heads: Optional[Sequence[int]] = None,
                 window_size: Optional[int] = None,
                 in_chans: int = 3,
                 fused_attn: bool = True,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        overrides = dict(
            img_size=img_size,
            patch_size=patch_size,
            embed_dim=embed_dim,
            depths=None if depths is None else tuple(depths),
            num_heads=None if num_heads is None else tuple(num_heads),
            window_size=window_size)
        overrides = {k: v for k, v in overrides.items() if v is not None}
        common = dict(num_classes=0, in_chans=in_chans, drop_path_rate=0.)
        if arch is not None:
            encoder = timm.create_model(
                arch, pretrained=False, **common, **overrides)
        else:
            absent = [
                name for name in ('img_size', 'embed_dim', 'depths',
                                  'num_heads', 'window_size')
                if name not in overrides
            ]
            if absent:
                raise ValueError(f'SwinV2(arch=None) needs explicit {absent}.')
            encoder = SwinTransformerV2(**common, **overrides)
        self.arch = arch
        self.img_size = tuple(encoder.patch_embed.img_size)
        self.pretrained = (None if pretrained is None else
                           check_weights_file(pretrained, 'SwinV2'))
        if fused_attn:
            enable_fused_window_attention(encoder)
        self._setup_encoder(encoder)
        self._check_grids('SwinV2')

    def forward_stem(self, x: Tensor) -> Tensor:
        """Images ``(B, C, H, W)`` to NHWC patch tokens."""
        if x.dim() != 4 or tuple(x.shape[-2:]) != self.img_size:
            raise ValueError(
                f'SwinV2 expects images (B, C, {self.img_size[0]}, '
                f'{self.img_size[1]}), got {tuple(x.shape)}; resize the '
                'frames to img_size in the data pipeline.')
        return self.encoder.patch_embed(x)

    def _attn_branch(self, block: nn.Module, x: Tensor) -> Tensor:
        # Swin-V2 is post-norm: the norm follows the attention.
        return block.norm1(block._attn(x))

    def _mlp_branch(self, block: nn.Module, x: Tensor) -> Tensor:
        return block.norm2(block.mlp(x))

    def init_weights(self) -> None:
        """Loads ``pretrained`` (either layout); random init otherwise."""
        if self.pretrained is None:
            return
        state_dict = read_state_dict(self.pretrained, 'SwinV2')
        state_dict = checkpoint_filter_fn(state_dict, self.encoder)
        classifier = [k for k in state_dict if re.match(r'head\.', k)]
        for key in classifier:
            state_dict.pop(key)
        load_exact(self.encoder, state_dict, self.pretrained, classifier)
        self._is_init = True
