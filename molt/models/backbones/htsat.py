"""Frozen HTS-AT audio encoder: torchaudio log-mel, bn0, fold, timm Swin."""
from typing import Optional, Sequence

import torch
from timm.models.swin_transformer import SwinTransformer, checkpoint_filter_fn
from torch import Tensor, nn
from torch.nn import functional as F

from molt.registry import MODELS
from .audio_frontends import HTSATLogMel, _check_waveform
from .base import FrozenSwinBackbone
from .weights import (CheckpointMismatchError, check_weights_file, load_exact,
                      read_state_dict)

__all__ = ['HTSAT']

# Official keys that molt does not build: the SED head (tscam_conv + an
# unused linear `head`). They are logged by name when a checkpoint is read.
_SED_HEAD_PREFIXES = ('tscam_conv.', 'head.')
_FRONTEND_PREFIXES = ('spectrogram_extractor.', 'logmel_extractor.')


@MODELS.register_module()
class HTSAT(FrozenSwinBackbone):
    """HTS-AT (Chen et al., 2022) as a frozen encoder of 32 kHz waveforms.

    Pipeline, as in the official code: log-mel (:class:`HTSATLogMel`,
    ``(B, T, 64)``) -> ``bn0`` (BatchNorm over mel bins) -> bicubic resize of
    the time axis to ``spec_size * freq_ratio`` (1024) frames -> fold into a
    ``spec_size x spec_size`` (256x256) one-channel image, 4 time chunks
    stacked along frequency -> Swin-v1 (timm's ``SwinTransformer``: patch 4,
    embed 96, depths (2, 2, 6, 2), heads (4, 8, 16, 32), window 8; grids
    64/32/16/8). 12 blocks; the last block gives ``(B, 64, 768)``.

    The body has 27.5 M parameters; the official checkpoint's ~31 M also
    count the SED head (``tscam_conv`` 2.4 M + ``head`` 0.3 M), which a
    frozen feature reader does not need, so it is not built.

    Checkpoint: the official ``{'state_dict': {'sed_model.<key>': ...}}``.
    ``bn0`` and the Swin body are loaded exactly; the STFT kernels and mel
    bank it stores are compared against this front-end (an error if they
    differ); the SED head is logged as unused; any other key is an error.

    Args:
        sample_rate: Input sample rate (Hz).
        clip_seconds: Required clip length; None accepts any length that
            fits ``spec_size * freq_ratio`` frames.
        n_fft: STFT size.
        hop_length: STFT hop.
        n_mels: Mel bins.
        f_min: Lowest mel frequency.
        f_max: Highest mel frequency.
        spec_size: Side of the folded image.
        freq_ratio: Number of time chunks stacked along frequency.
        patch_size: Swin patch size.
        embed_dim: Channels of stage 0.
        depths: Blocks per stage.
        num_heads: Heads per stage.
        window_size: Attention window.
        fused_attn: Use ``scaled_dot_product_attention`` in timm's window
            attention (same result, less memory).
        pretrained: Local checkpoint path, or None for random weights.
    """

    def __init__(self,
                 sample_rate: int = 32000,
                 clip_seconds: Optional[float] = 10.0,
                 n_fft: int = 1024,
                 hop_length: int = 320,
                 n_mels: int = 64,
                 f_min: float = 50.,
                 f_max: float = 14000.,
                 spec_size: int = 256,
                 freq_ratio: int = 4,
                 patch_size: int = 4,
                 embed_dim: int = 96,
                 depths: Sequence[int] = (2, 2, 6, 2),
                 num_heads: Sequence[int] = (4, 8, 16, 32),
                 window_size: int = 8,
                 fused_attn: bool = True,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if spec_size % freq_ratio or n_mels > spec_size // freq_ratio:
            raise ValueError(
                f'HTSAT: n_mels={n_mels} must fit spec_size // freq_ratio = '
                f'{spec_size}//{freq_ratio} rows per time chunk.')
        self.sample_rate = sample_rate
        self.spec_size = spec_size
        self.freq_ratio = freq_ratio
        self.frontend = HTSATLogMel(
            sample_rate=sample_rate,
            n_fft=n_fft,
            hop_length=hop_length,
            n_mels=n_mels,
            f_min=f_min,
            f_max=f_max)
        self.clip_samples = (None if clip_seconds is None else
                             int(round(clip_seconds * sample_rate)))
        max_frames = spec_size * freq_ratio
        if (self.clip_samples is not None
                and self.frontend.num_frames(self.clip_samples) > max_frames):
            raise ValueError(
                f'HTSAT: a {clip_seconds} s clip gives '
                f'{self.frontend.num_frames(self.clip_samples)} frames, more '
                f'than spec_size * freq_ratio = {max_frames}.')
        self.bn0 = nn.BatchNorm2d(n_mels)
        encoder = SwinTransformer(
            img_size=spec_size,
            patch_size=patch_size,
            in_chans=1,
            num_classes=0,
            embed_dim=embed_dim,
            depths=tuple(depths),
            num_heads=tuple(num_heads),
            window_size=window_size,
            drop_path_rate=0.)
        for module in encoder.modules():
            if hasattr(module, 'fused_attn'):
                module.fused_attn = fused_attn
        self.pretrained = (None if pretrained is None else
                           check_weights_file(pretrained, 'HTSAT'))
        self._setup_encoder(encoder)
        self._check_grids('HTSAT')

    def wave_to_image(self, wave: Tensor) -> Tensor:
        """Waveforms ``(B, samples)`` to the folded spectrogram image
        ``(B, 1, spec_size, spec_size)``."""
        _check_waveform(wave, 'HTSAT', self.clip_samples)
        x = self.frontend(wave).unsqueeze(1)  # (B, 1, T, F)
        x = self.bn0(x.transpose(1, 3)).transpose(1, 3)
        return self._fold(x)

    def _fold(self, x: Tensor) -> Tensor:
        """HTS-AT's ``reshape_wav2img``: (B, 1, T, F) -> (B, 1, S, S)."""
        target_frames = self.spec_size * self.freq_ratio
        target_bins = self.spec_size // self.freq_ratio
        frames, bins = x.shape[2:]
        if frames > target_frames:
            raise ValueError(f'HTSAT: {frames} frames exceed the '
                             f'{target_frames} the image can hold.')
        if frames < target_frames:
            x = F.interpolate(
                x, (target_frames, bins), mode='bicubic', align_corners=True)
        if bins < target_bins:
            x = F.interpolate(
                x, (x.shape[2], target_bins),
                mode='bicubic',
                align_corners=True)
        batch, channels = x.shape[:2]
        x = x.permute(0, 1, 3, 2)  # B C F T
        x = x.reshape(batch, channels, target_bins, self.freq_ratio,
                      target_frames // self.freq_ratio)
        x = x.permute(0, 1, 3, 2, 4)  # B C chunk F T/chunk
        return x.reshape(batch, channels, self.spec_size, self.spec_size)

    def forward_stem(self, wave: Tensor) -> Tensor:
        """Waveforms ``(B, samples)`` to NHWC patch tokens."""
        return self.encoder.patch_embed(self.wave_to_image(wave))

    def _attn_branch(self, block: nn.Module, x: Tensor) -> Tensor:
        # Swin-v1 is pre-norm.
        return block._attn(block.norm1(x))

    def _mlp_branch(self, block: nn.Module, x: Tensor) -> Tensor:
        return block.mlp(block.norm2(x))

    def init_weights(self) -> None:
        """Loads the official checkpoint layout (see the class docstring)."""
        if self.pretrained is None:
            return
        state_dict = read_state_dict(self.pretrained, 'HTSAT')
        state_dict = {
            key[len('sed_model.'):] if key.startswith('sed_model.') else key:
            value
            for key, value in state_dict.items()
        }
        ignored = [k for k in state_dict if k.startswith(_SED_HEAD_PREFIXES)]
        self._check_frontend_buffers(state_dict)
        bn0 = {
            key[len('bn0.'):]: value
            for key, value in state_dict.items() if key.startswith('bn0.')
        }
        load_exact(self.bn0, bn0, f'{self.pretrained} (bn0)')
        body = {
            key: value
            for key, value in state_dict.items()
            if not key.startswith(('bn0.', ) + _SED_HEAD_PREFIXES +
                                  _FRONTEND_PREFIXES)
        }
        body = checkpoint_filter_fn(body, self.encoder)
        load_exact(self.encoder, body, self.pretrained, ignored)
        self._is_init = True

    def _check_frontend_buffers(self, state_dict: dict) -> None:
        """The checkpoint's STFT kernels and mel bank must equal what
        :class:`HTSATLogMel` computes; otherwise its outputs would differ."""
        reference = self.frontend.reference_buffers()
        unknown = [
            k for k in state_dict
            if k.startswith(_FRONTEND_PREFIXES) and k not in reference
        ]
        if unknown:
            raise CheckpointMismatchError(
                f'{self.pretrained}: unknown front-end keys {unknown}.')
        for key, expected in reference.items():
            if key not in state_dict:
                continue
            stored = state_dict[key].float()
            if (stored.shape != expected.shape or
                    not torch.allclose(stored, expected, atol=1e-4)):
                raise CheckpointMismatchError(
                    f'{self.pretrained}: {key} differs from the front-end '
                    'molt computes (check sample_rate, n_fft, hop_length, '
                    'n_mels, f_min, f_max against the checkpoint).')
