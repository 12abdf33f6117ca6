import math

import numpy as np
import pytest
import torch

from molt.models.backbones import HTSATLogMel, KaldiFbank


def _hz_to_mel(f):
    """librosa's slaney mel scale: linear below 1 kHz, log above."""
    f = np.asarray(f, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    mel = f / f_sp
    log_part = min_log_mel + np.log(np.maximum(f, min_log_hz) / min_log_hz) \
        / logstep
    return np.where(f >= min_log_hz, log_part, mel)


def _mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    return np.where(m >= min_log_mel,
                    min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def _slaney_mel_bank(sr, n_fft, n_mels, fmin, fmax):
    """librosa.filters.mel(norm='slaney', htk=False), written out."""
    fft_freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    mel_f = _mel_to_hz(
        np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    weights = np.zeros((n_mels, len(fft_freqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights.T  # (freqs, mels), like HTS-AT's melW


def test_htsat_logmel_matches_the_documented_recipe():
    frontend = HTSATLogMel()  # 32 kHz, 1024/320, 64 mels, 50 Hz - 14 kHz
    wave = 0.1 * torch.randn(2, 32000, dtype=torch.float64)
    ours = frontend(wave.float()).double()  # (B, T, 64)

    window = torch.hann_window(1024, periodic=True, dtype=torch.float64)
    spec = torch.stft(wave, 1024, hop_length=320, window=window,
                      center=True, pad_mode='reflect', return_complex=True)
    power = spec.abs()**2  # (B, 513, T)
    bank = torch.from_numpy(_slaney_mel_bank(32000, 1024, 64, 50, 14000))
    mel = torch.einsum('bft,fm->btm', power, bank)
    reference = 10 * torch.log10(torch.clamp(mel, min=1e-10))
    assert ours.shape == (2, 101, 64)
    assert (ours - reference).abs().max() < 1e-3  # dB


def test_htsat_logmel_reference_buffers_match_its_bank():
    frontend = HTSATLogMel()
    buffers = frontend.reference_buffers()
    bank = _slaney_mel_bank(32000, 1024, 64, 50, 14000)
    np.testing.assert_allclose(
        buffers['logmel_extractor.melW'].numpy(), bank, atol=1e-6)
    assert buffers['spectrogram_extractor.stft.conv_real.weight'].shape == (
        513, 1, 1024)


def test_htsat_logmel_rejects_bad_waveforms():
    frontend = HTSATLogMel()
    with pytest.raises(ValueError, match=r'\(B, samples\)'):
        frontend(torch.randn(2, 1, 32000))
    with pytest.raises(ValueError, match='more than 512 samples'):
        frontend(torch.randn(2, 100))


def test_kaldi_fbank_image():
    frontend = KaldiFbank(input_sample_rate=32000)
    wave = torch.randn(3, 32000)
    image = frontend(wave)
    assert image.shape == (3, 3, 192, 192)
    # 1 s at 16 kHz with a 5.2 ms shift gives 188 frames; the rest is
    # zero padding, which the normalisation maps to (0 - mean) / (2 std).
    pad_value = 4.9848 / (2 * 3.7080)
    torch.testing.assert_close(image[:, :, 188:],
                               torch.full_like(image[:, :, 188:], pad_value))
    assert not torch.allclose(image[:, :, :188], image.new_tensor(pad_value))
    torch.testing.assert_close(image[:, 0], image[:, 2])


def test_kaldi_fbank_equals_torchaudio_call():
    from torchaudio.compliance import kaldi
    frontend = KaldiFbank()
    wave = torch.randn(1, 16000)
    clip = wave[0] - wave[0].mean()
    fbank = kaldi.fbank(clip[None], htk_compat=True, sample_frequency=16000,
                        use_energy=False, window_type='hanning',
                        num_mel_bins=192, dither=0.0, frame_shift=5.2)
    expected = (fbank - (-4.9848)) / (3.7080 * 2)
    torch.testing.assert_close(frontend(wave)[0, 0, :fbank.shape[0]],
                               expected)
