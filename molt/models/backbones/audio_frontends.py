"""Audio front-ends: waveform -> time-frequency image for a Swin encoder.

* :class:`HTSATLogMel`: HTS-AT's log-mel recipe with torchaudio (built by
  :class:`~molt.models.backbones.HTSAT` itself).
* :class:`KaldiFbank`: the shared-backbone setting's 192x192 Kaldi fbank
  image, so that one Swin-V2 reads both modalities (registered: configs
  name it as ``model.audio_frontend``).
"""
import math
from typing import Dict, Optional

import torch
import torchaudio
from mmengine.model import BaseModule
from torch import Tensor
from torchaudio.compliance import kaldi

from molt.registry import MODELS

__all__ = ['HTSATLogMel', 'KaldiFbank']


def _check_waveform(wave: Tensor, owner: str,
                    num_samples: Optional[int] = None) -> None:
    if wave.dim() != 2:
        raise ValueError(f'{owner} expects waveforms (B, samples), got a '
                         f'tensor of shape {tuple(wave.shape)}.')
    if num_samples is not None and wave.shape[1] != num_samples:
        raise ValueError(
            f'{owner} expects {num_samples} samples per clip, got '
            f'{wave.shape[1]}; the data pipeline must cut or tile audio to '
            'the clip length of the audio backbone.')


class HTSATLogMel(BaseModule):
    """HTS-AT's front-end: power STFT -> slaney mel -> dB, via torchaudio.

    The official code uses torchlibrosa: STFT as a convolution with a
    periodic Hann window (n_fft 1024, hop 320, centred, reflect padding),
    power 2, librosa's slaney-normalised slaney-scale mel bank (64 bins,
    50 Hz - 14 kHz), ``10 log10(max(x, amin)) - 10 log10(max(amin, ref))``
    with ref 1.0, amin 1e-10 and no top_db. torchaudio's defaults (htk
    scale, no norm) are ~22 dB off, hence the explicit arguments.

    Args:
        sample_rate: Input sample rate (Hz).
        n_fft: FFT and window length.
        hop_length: Hop between frames.
        n_mels: Mel bins.
        f_min: Lowest mel frequency (Hz).
        f_max: Highest mel frequency (Hz).
    """

    def __init__(self,
                 sample_rate: int = 32000,
                 n_fft: int = 1024,
                 hop_length: int = 320,
                 n_mels: int = 64,
                 f_min: float = 50.,
                 f_max: float = 14000.,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.melspec = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate,
            n_fft=n_fft,
            win_length=n_fft,
            hop_length=hop_length,
            f_min=f_min,
            f_max=f_max,
            n_mels=n_mels,
            window_fn=torch.hann_window,
            power=2.0,
            center=True,
            pad_mode='reflect',
            norm='slaney',
            mel_scale='slaney')
        self.to_db = torchaudio.transforms.AmplitudeToDB(
            stype='power', top_db=None)

    def num_frames(self, num_samples: int) -> int:
        """STFT frames of a centred transform of ``num_samples`` samples."""
        return num_samples // self.hop_length + 1

    def forward(self, wave: Tensor) -> Tensor:
        """Waveforms ``(B, samples)`` to log-mel ``(B, frames, n_mels)`` dB."""
        _check_waveform(wave, 'HTSATLogMel')
        if wave.shape[1] <= self.n_fft // 2:
            raise ValueError(
                f'HTSATLogMel needs more than {self.n_fft // 2} samples for '
                f'its reflect padding, got {wave.shape[1]}.')
        # The STFT runs in fp32 even under autocast (fp16 power overflows).
        with torch.autocast(wave.device.type, enabled=False):
            mel = self.to_db(self.melspec(wave.float()))
        return mel.transpose(1, 2)

    def reference_buffers(self) -> Dict[str, Tensor]:
        """The STFT kernels and mel bank in the official checkpoint's
        layout (``spectrogram_extractor``/``logmel_extractor`` buffers),
        used to check that a checkpoint agrees with this front-end."""
        n = torch.arange(self.n_fft, dtype=torch.float64)
        k = torch.arange(self.n_fft // 2 + 1, dtype=torch.float64)
        angle = 2 * math.pi * k[:, None] * n[None, :] / self.n_fft
        window = torch.hann_window(self.n_fft, dtype=torch.float64)
        return {
            'spectrogram_extractor.stft.conv_real.weight':
            (torch.cos(angle) * window)[:, None, :].float(),
            'spectrogram_extractor.stft.conv_imag.weight':
            (-torch.sin(angle) * window)[:, None, :].float(),
            'logmel_extractor.melW':
            self.melspec.mel_scale.fb.detach().float(),
        }


@MODELS.register_module()
class KaldiFbank(BaseModule):
    """Kaldi fbank image of a 1 s clip for a Swin-V2 shared with frames.

    The recipe of the shared-backbone peers (AST/LAVisH): remove the DC
    offset, ``kaldi.fbank(htk_compat=True, window_type='hanning',
    num_mel_bins=192, frame_shift=5.2, dither=0, use_energy=False)`` at
    16 kHz, zero-pad or cut to 192 frames, normalise as
    ``(x - mean) / (2 * std)`` with AudioSet's mean -4.9848 and std 3.7080,
    and repeat to 3 channels.

    Args:
        sample_rate: Rate the fbank is computed at (Hz).
        input_sample_rate: Rate of the incoming waveform; resampled to
            ``sample_rate`` when different. None means equal.
        num_mel_bins: Mel bins (image width).
        num_frames: Frames (image height) after padding/cutting.
        frame_shift: Frame shift in ms.
        mean: Normalisation mean.
        std: Normalisation std.
        out_channels: Channels of the output image.
    """

    def __init__(self,
                 sample_rate: int = 16000,
                 input_sample_rate: Optional[int] = None,
                 num_mel_bins: int = 192,
                 num_frames: int = 192,
                 frame_shift: float = 5.2,
                 mean: float = -4.9848,
                 std: float = 3.7080,
                 out_channels: int = 3,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.sample_rate = sample_rate
        self.input_sample_rate = input_sample_rate or sample_rate
        self.num_mel_bins = num_mel_bins
        self.num_frames = num_frames
        self.frame_shift = frame_shift
        self.mean = mean
        self.std = std
        self.out_channels = out_channels

    def forward(self, wave: Tensor) -> Tensor:
        """Waveforms ``(B, samples)`` to images
        ``(B, out_channels, num_frames, num_mel_bins)``."""
        _check_waveform(wave, 'KaldiFbank')
        with torch.autocast(wave.device.type, enabled=False):
            wave = wave.float()
            if self.input_sample_rate != self.sample_rate:
                wave = torchaudio.functional.resample(
                    wave, self.input_sample_rate, self.sample_rate)
            images = [self._fbank(clip) for clip in wave]
        image = torch.stack(images).unsqueeze(1)
        return image.expand(-1, self.out_channels, -1, -1)

    def _fbank(self, clip: Tensor) -> Tensor:
        clip = clip - clip.mean()
        fbank = kaldi.fbank(
            clip[None],
            htk_compat=True,
            sample_frequency=self.sample_rate,
            use_energy=False,
            window_type='hanning',
            num_mel_bins=self.num_mel_bins,
            dither=0.0,
            frame_shift=self.frame_shift)
        pad = self.num_frames - fbank.shape[0]
        if pad > 0:
            fbank = torch.nn.functional.pad(fbank, (0, 0, 0, pad))
        fbank = fbank[:self.num_frames]
        return (fbank - self.mean) / (self.std * 2)
