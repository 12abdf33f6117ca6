import re

import pytest
import torch
from timm.models.swin_transformer_v2 import SwinTransformerV2Stage

from molt.models.backbones import SwinV2
from molt.models.backbones.weights import CheckpointMismatchError
from molt.registry import MODELS
from molt_testing import random_post_norms


def build(cfg, **kwargs):
    cfg = dict(cfg, **kwargs)
    return MODELS.build(cfg)


def test_taps_shapes_and_order(tiny_swin_cfg):
    model = build(tiny_swin_cfg)
    assert model.num_layers == 8
    assert model.layer_dims == [16, 16, 32, 32, 64, 64, 128, 128]
    assert model.layer_num_tokens == [64, 64, 16, 16, 4, 4, 1, 1]
    x = torch.randn(2, 3, 32, 32)
    taps = model(x, out_layers=[-1, 2, 0])
    assert [t.shape for t in taps] == [(2, 1, 128), (2, 16, 32), (2, 64, 16)]
    # Negative and positive indices name the same block.
    last, = model(x, out_layers=[7])
    assert torch.equal(last, taps[0])


def test_runs_no_further_than_the_deepest_tap(tiny_swin_cfg):
    model = build(tiny_swin_cfg)
    ran = []
    for index in range(model.num_layers):
        model.block(index).register_forward_hook(
            lambda module, args, out, index=index: ran.append(index))
    model(torch.randn(1, 3, 32, 32), out_layers=[1, 3])
    assert ran == [0, 1, 2, 3]


def test_manual_loop_equals_timm_forward_features(tiny_swin_cfg):
    model = build(tiny_swin_cfg)
    x = torch.randn(2, 3, 32, 32)
    last, = model(x, out_layers=[-1])
    ours = model.encoder.norm(last)
    timm_out = model.encoder.forward_features(x).flatten(1, 2)
    torch.testing.assert_close(ours, timm_out)


def test_stage_maps(tiny_swin_cfg):
    model = build(tiny_swin_cfg)
    x = torch.randn(2, 3, 32, 32)
    stage_ends = [1, 3, 5, 7]
    tokens, maps = model(x, out_layers=stage_ends, return_stage_maps=True)
    assert [tuple(m.shape) for m in maps] == [(2, 16, 8, 8), (2, 32, 4, 4),
                                             (2, 64, 2, 2), (2, 128, 1, 1)]
    as_tokens = [m.flatten(2).transpose(1, 2) for m in maps]
    # Stages 0-2: the last block's output in NCHW.
    for ours, tapped in zip(as_tokens[:3], tokens[:3]):
        torch.testing.assert_close(ours, tapped)
    # Stage 3: through the final LayerNorm, as the official AVS decoders
    # read it; the tapped tokens stay raw (as without maps).
    torch.testing.assert_close(as_tokens[3], model.encoder.norm(tokens[3]))
    assert not torch.allclose(as_tokens[3], tokens[3], atol=1e-3)
    raw, = model(x, out_layers=[7])
    torch.testing.assert_close(tokens[3], raw)


def test_frozen_and_always_eval(tiny_swin_cfg):
    model = build(tiny_swin_cfg)
    model.train()
    assert not model.training
    assert all(not m.training for m in model.modules())
    assert all(not p.requires_grad for p in model.parameters())
    out, = model(torch.randn(1, 3, 32, 32, requires_grad=True))
    out.sum().backward()
    assert all(p.grad is None for p in model.parameters())


def test_zero_adapters_leave_blocks_unchanged(tiny_swin_cfg):
    model = build(tiny_swin_cfg)
    x = model.forward_stem(torch.randn(2, 3, 32, 32))
    plain = adapted = x
    zero = torch.zeros_like
    for index in range(model.num_layers):
        if model.opens_stage(index):
            stage = model.layer_stages[index]
            plain = model.forward_downsample(plain, stage)
            adapted = model.forward_downsample(adapted, stage)
        plain = model.forward_block(plain, index)
        adapted = model.forward_block(adapted, index, zero, zero)
    torch.testing.assert_close(adapted, plain)


def test_adapter_gradient_flows_through_frozen_blocks(tiny_swin_cfg):
    model = build(tiny_swin_cfg)
    scale = torch.nn.Parameter(torch.tensor(0.1))
    x = model.forward_stem(torch.randn(2, 3, 32, 32))
    # The adapter sits in block 0; the loss is read after the last block.
    x = model.forward_block(x, 0, attn_adapter=lambda t: scale * t)
    for index in range(1, model.num_layers):
        if model.opens_stage(index):
            x = model.forward_downsample(x, model.layer_stages[index])
        x = model.forward_block(x, index)
    x.square().mean().backward()
    assert scale.grad is not None and scale.grad.abs() > 0
    assert all(p.grad is None for p in model.parameters())


def test_bad_image_size_and_window(tiny_swin_cfg):
    model = build(tiny_swin_cfg)
    with pytest.raises(ValueError, match=r'\(B, C, 32, 32\)'):
        model(torch.randn(1, 3, 40, 40))
    with pytest.raises(IndexError, match='out_layers'):
        model(torch.randn(1, 3, 32, 32), out_layers=[8])
    # 48 px -> grid 12, window 8 cannot tile it.
    with pytest.raises(ValueError, match='window cannot tile'):
        build(tiny_swin_cfg, img_size=48, window_size=8)


def test_missing_checkpoint_fails_at_build(tiny_swin_cfg, tmp_path):
    missing = tmp_path / 'nope.pth'
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        build(tiny_swin_cfg, pretrained=str(missing))


def _to_microsoft_layout(state_dict, model):
    """The original release: downsample at stage ends, `head.`, buffers."""
    out = {}
    for key, value in state_dict.items():
        key = re.sub(r'layers\.(\d+)\.downsample',
                     lambda m: f'layers.{int(m.group(1)) - 1}.downsample', key)
        out[key] = value.clone()
    for name, module in model.encoder.named_modules():
        if hasattr(module, 'relative_position_index'):
            out[f'{name}.relative_position_index'] = \
                module.relative_position_index.clone()
            out[f'{name}.relative_coords_table'] = \
                module.relative_coords_table.clone()
        if getattr(module, 'attn_mask', None) is not None:
            out[f'{name}.attn_mask'] = module.attn_mask.clone()
    out['head.weight'] = torch.randn(10, 128)
    out['head.bias'] = torch.randn(10)
    return {'model': out}


@pytest.mark.parametrize('layout', ['timm', 'microsoft'])
def test_checkpoint_round_trip(tiny_swin_cfg, tmp_path, layout):
    source = build(tiny_swin_cfg)
    for p in source.parameters():
        p.data.normal_()
    state_dict = source.encoder.state_dict()
    if layout == 'timm':
        checkpoint = dict(state_dict)
        checkpoint['head.fc.weight'] = torch.randn(10, 128)
        checkpoint['head.fc.bias'] = torch.randn(10)
    else:
        checkpoint = _to_microsoft_layout(state_dict, source)
        assert 'layers.0.downsample.reduction.weight' in checkpoint['model']
    path = tmp_path / f'{layout}.pth'
    torch.save(checkpoint, path)
    target = build(tiny_swin_cfg, pretrained=str(path))
    target.init_weights()
    for key, value in target.encoder.state_dict().items():
        torch.testing.assert_close(value, state_dict[key], msg=key)
    x = torch.randn(1, 3, 32, 32)
    torch.testing.assert_close(target(x)[0], source(x)[0])


def test_checkpoint_that_does_not_fit_names_the_keys(tiny_swin_cfg, tmp_path):
    state_dict = build(tiny_swin_cfg).encoder.state_dict()
    state_dict.pop('layers.3.blocks.1.mlp.fc2.weight')
    state_dict['layers.0.blocks.0.extra'] = torch.zeros(1)
    path = tmp_path / 'bad.pth'
    torch.save(state_dict, path)
    model = build(tiny_swin_cfg, pretrained=str(path))
    with pytest.raises(CheckpointMismatchError) as error:
        model.init_weights()
    assert 'layers.3.blocks.1.mlp.fc2.weight' in str(error.value)
    assert 'layers.0.blocks.0.extra' in str(error.value)
    assert 'bad.pth' in str(error.value)


def test_checkpoint_with_wrong_shapes(tiny_swin_cfg, tmp_path):
    state_dict = build(tiny_swin_cfg).encoder.state_dict()
    path = tmp_path / 'small.pth'
    torch.save(state_dict, path)
    wider = build(tiny_swin_cfg, embed_dim=32, pretrained=str(path))
    with pytest.raises(CheckpointMismatchError, match='shape mismatches'):
        wider.init_weights()


def test_full_size_swinv2_large():
    model = SwinV2(arch='swinv2_large_window12_192')
    num_params = sum(p.numel() for p in model.parameters())
    assert round(num_params / 1e6, 1) == 195.2
    assert model.num_layers == 24
    assert model.stage_dims == [192, 384, 768, 1536]
    assert model.layer_num_tokens[-1] == 36


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_fused_attention_equals_timm(tiny_swin_cfg, dtype):
    fused = build(tiny_swin_cfg)
    plain = build(tiny_swin_cfg, fused_attn=False)
    for p in fused.parameters():
        p.data.normal_(std=0.3)
    plain.load_state_dict(fused.state_dict())
    x = torch.randn(2, 3, 32, 32)
    with torch.autocast('cpu', dtype=dtype, enabled=dtype != torch.float32):
        ours = fused(x, out_layers=[1, 3, 7])  # shifted and plain windows
        theirs = plain(x, out_layers=[1, 3, 7])
    tol = 1e-5 if dtype == torch.float32 else 5e-2
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a.float(), b.float(), atol=tol, rtol=tol)


def test_timm_random_init_makes_every_block_an_identity(
        tiny_swin_cfg, monkeypatch):
    # What the demos' randomly initialised Swin-V2 is
    # (docs/en/get_started.md, the AVQA demo): timm zero-initialises the
    # residual post-norms, so only the patch embedding and the patch merging
    # change the tokens.
    monkeypatch.undo()  # timm's own initialisation (see conftest.py)
    model = build(tiny_swin_cfg)
    taps = model(torch.randn(2, 3, 32, 32), out_layers=list(range(8)))
    for first, second in zip(taps[0::2], taps[1::2]):
        torch.testing.assert_close(first, second)
    # The tests' blocks compute (conftest.py draws the post-norms).
    monkeypatch.setattr(SwinTransformerV2Stage, '_init_respostnorm',
                        random_post_norms)
    taps = build(tiny_swin_cfg)(
        torch.randn(2, 3, 32, 32), out_layers=[0, 1])
    assert not torch.allclose(taps[0], taps[1])
