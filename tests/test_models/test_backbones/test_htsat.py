import re

import pytest
import torch

from molt.models.backbones import HTSAT
from molt.models.backbones.weights import CheckpointMismatchError
from molt.registry import MODELS


def build(cfg, **kwargs):
    return MODELS.build(dict(cfg, **kwargs))


def _randomise(model):
    for p in model.parameters():
        p.data.normal_(std=0.2)
    model.bn0.running_mean.normal_()
    model.bn0.running_var.uniform_(0.5, 2.0)


def _official_checkpoint(model):
    """Writes `model` in the official HTS-AT layout:
    {'state_dict': {'sed_model.<key>': ...}}, downsample at stage ends,
    STFT/mel buffers, bn0, the SED head and Swin's derived buffers."""
    state = {}
    for key, value in model.encoder.state_dict().items():
        key = re.sub(r'layers\.(\d+)\.downsample',
                     lambda m: f'layers.{int(m.group(1)) - 1}.downsample', key)
        state[key] = value.clone()
    for name, module in model.encoder.named_modules():
        if hasattr(module, 'relative_position_index'):
            state[f'{name}.relative_position_index'] = \
                module.relative_position_index.clone()
        if getattr(module, 'attn_mask', None) is not None:
            state[f'{name}.attn_mask'] = module.attn_mask.clone()
    for key, value in model.bn0.state_dict().items():
        state[f'bn0.{key}'] = value.clone()
    state.update(model.frontend.reference_buffers())
    state['tscam_conv.weight'] = torch.randn(5, 128, 2, 3)
    state['tscam_conv.bias'] = torch.randn(5)
    state['head.weight'] = torch.randn(5, 5)
    state['head.bias'] = torch.randn(5)
    return {
        'epoch': 10,
        'pytorch-lightning_version': '1.5.9',
        'state_dict': {f'sed_model.{k}': v
                       for k, v in state.items()},
    }


def test_shapes_and_early_stop(tiny_htsat_cfg):
    model = build(tiny_htsat_cfg)
    assert model.num_layers == 8
    ran = []
    for index in range(model.num_layers):
        model.block(index).register_forward_hook(
            lambda module, args, out, index=index: ran.append(index))
    taps = model(torch.randn(2, 16000), out_layers=[-3, 2])
    assert [t.shape for t in taps] == [(2, 16, 64), (2, 64, 32)]
    assert ran == list(range(6))


def test_folded_image_follows_reshape_wav2img(tiny_htsat_cfg):
    model = build(tiny_htsat_cfg)
    image = model.wave_to_image(torch.randn(2, 16000))
    assert image.shape == (2, 1, 64, 64)
    # The fold stacks 4 time chunks along frequency: rows 16k..16k+15 hold
    # chunk k, so image[..., 16 + f, t] == resized[..., 64 + t, f].
    mel = model.frontend(torch.randn(1, 16000)).unsqueeze(1)
    mel = model.bn0(mel.transpose(1, 3)).transpose(1, 3)
    resized = torch.nn.functional.interpolate(
        mel, (256, 16), mode='bicubic', align_corners=True)
    folded = model._fold(mel)
    for chunk in range(4):
        torch.testing.assert_close(
            folded[0, 0, 16 * chunk:16 * (chunk + 1)],
            resized[0, 0, 64 * chunk:64 * (chunk + 1)].T)


def test_manual_loop_equals_timm_forward_features(tiny_htsat_cfg):
    model = build(tiny_htsat_cfg)
    wave = torch.randn(2, 16000)
    last, = model(wave, out_layers=[-1])
    timm_out = model.encoder.forward_features(model.wave_to_image(wave))
    torch.testing.assert_close(model.encoder.norm(last), timm_out.flatten(1, 2))


def test_official_checkpoint_round_trip(tiny_htsat_cfg, tmp_path):
    source = build(tiny_htsat_cfg)
    _randomise(source)
    path = tmp_path / 'HTSAT_AudioSet_Saved_1.ckpt'
    torch.save(_official_checkpoint(source), path)
    target = build(tiny_htsat_cfg, pretrained=str(path))
    target.init_weights()
    torch.testing.assert_close(target.bn0.running_mean,
                               source.bn0.running_mean)
    wave = torch.randn(2, 16000)
    for ours, theirs in zip(target(wave, [0, -1]), source(wave, [0, -1])):
        torch.testing.assert_close(ours, theirs)


def test_unknown_key_is_reported_by_name(tiny_htsat_cfg, tmp_path):
    source = build(tiny_htsat_cfg)
    checkpoint = _official_checkpoint(source)
    checkpoint['state_dict']['sed_model.mystery.weight'] = torch.zeros(3)
    path = tmp_path / 'extra.ckpt'
    torch.save(checkpoint, path)
    model = build(tiny_htsat_cfg, pretrained=str(path))
    with pytest.raises(CheckpointMismatchError, match='mystery.weight'):
        model.init_weights()


def test_frontend_buffers_must_agree(tiny_htsat_cfg, tmp_path):
    checkpoint = _official_checkpoint(build(tiny_htsat_cfg))
    checkpoint['state_dict']['sed_model.logmel_extractor.melW'] *= 1.5
    path = tmp_path / 'other_mel.ckpt'
    torch.save(checkpoint, path)
    model = build(tiny_htsat_cfg, pretrained=str(path))
    with pytest.raises(CheckpointMismatchError, match='melW'):
        model.init_weights()


def test_bn0_stays_frozen_in_train_mode(tiny_htsat_cfg):
    model = build(tiny_htsat_cfg)
    before = model.bn0.running_mean.clone()
    model.train()
    model(torch.randn(2, 16000) * 5)
    assert not model.bn0.training
    torch.testing.assert_close(model.bn0.running_mean, before)
    assert all(not p.requires_grad for p in model.parameters())


def test_bad_waveforms(tiny_htsat_cfg):
    model = build(tiny_htsat_cfg)
    with pytest.raises(ValueError, match=r'\(B, samples\)'):
        model(torch.randn(16000))
    with pytest.raises(ValueError, match='16000 samples'):
        model(torch.randn(2, 15000))
    with pytest.raises(ValueError, match='frames'):
        build(tiny_htsat_cfg, clip_seconds=3.0)


def test_full_size_htsat():
    model = HTSAT()
    num_params = sum(p.numel() for p in model.parameters())
    assert round(num_params / 1e6, 1) == 27.5
    assert model.num_layers == 12
    with torch.no_grad():
        last, = model(torch.randn(1, 320000))
    assert last.shape == (1, 64, 768)
