"""DG-SCT on tiny backbones of unequal widths and token counts."""
import pytest
import torch

from molt.models.adapters import DGSCTAdapter, DGSCTBlockAdapter
from molt.models.utils import BackboneLayout
from molt_testing import open_gates

TEMPORAL = dict(visual_fc_dims=16, audio_fc_dims=8, d_model=16, ffn_dims=32,
                num_heads=2, num_layers=1, gate_scale=0.1)


def build(unequal_backbones, **kwargs):
    visual, audio = unequal_backbones
    kwargs = dict(dict(num_latents=2, reduction_factor=2), **kwargs)
    return DGSCTAdapter(BackboneLayout.of(visual), BackboneLayout.of(audio),
                        **kwargs)


def test_shapes(unequal_backbones):
    visual, audio = unequal_backbones
    adapter = build(unequal_backbones, audio_pooling=None)
    block = adapter.adapters['audio'][0][0]  # audio block 0, visual block 1
    assert block.guide.token_proj.weight.shape == (256, 64)  # N_v -> N_a
    assert block.guide.channel_proj.weight.shape == (8, 16)  # C_v -> C_a
    open_gates(adapter)
    out = adapter(torch.randn(6, 3, 32, 32), torch.randn(6, 16000), visual,
                  audio, return_stage_maps=True)
    assert out['visual'][0].shape == (6, 1, 128)  # spatial-map pooling
    assert out['audio'][0].shape == (6, 4, 64)
    assert [m.shape for m in out['visual_maps']] == [
        (6, 16, 8, 8), (6, 32, 4, 4), (6, 64, 2, 2), (6, 128, 1, 1)]
    assert adapter.out_dims == dict(visual=128, audio=64)


def test_attention_pooling_uses_the_last_spatial_map(unequal_backbones):
    visual, audio = unequal_backbones
    adapter = build(unequal_backbones)
    maps = []
    adapter.adapters['audio'][-1][1].register_forward_hook(
        lambda m, args, out: maps.append(out[1]))
    plain = build(unequal_backbones, audio_pooling=None)
    plain.load_state_dict(adapter.state_dict())
    frames, wave = torch.randn(2, 3, 32, 32), torch.randn(2, 16000)
    pooled = adapter(frames, wave, visual, audio)['audio'][0]
    tokens = plain(frames, wave, visual, audio)['audio'][0]
    assert maps[0].shape == (2, 1, 4)
    torch.testing.assert_close(maps[0].sum(-1), torch.ones(2, 1))
    torch.testing.assert_close(pooled, maps[0] @ tokens)


@pytest.mark.parametrize('saturate, factor', [(30., 1 + 0.05), (-30., 0.7)])
def test_channel_and_spatial_maps_scale_the_tokens(saturate, factor):
    """``x (alpha M_c + beta M_s + 1 - alpha)`` with alpha 0.3, beta 0.05:
    both maps saturated at 1 give 1.05, both at 0 give 0.7."""
    block = DGSCTBlockAdapter(dims=8, num_tokens=5, other_dims=4,
                              other_tokens=3, num_latents=2,
                              reduction_factor=2, use_bn=False)
    with torch.no_grad():
        for layer in (block.channel_out, block.spatial_out):
            layer.weight.zero_()
            layer.bias.fill_(saturate)
    entering = []
    block.bottleneck.register_forward_pre_hook(
        lambda m, args: entering.append(args[0]))
    x = torch.randn(2, 5, 8)
    _, pooling = block(x, torch.randn(2, 3, 4))
    torch.testing.assert_close(entering[0], x * factor)
    # Constant spatial logits: uniform pooling.
    torch.testing.assert_close(pooling, torch.full((2, 1, 5), 0.2))


def test_channel_attention_is_guided_by_the_other_modality():
    block = DGSCTBlockAdapter(dims=8, num_tokens=5, other_dims=4,
                              other_tokens=3, num_latents=2,
                              reduction_factor=2)
    x = torch.randn(2, 5, 8)
    guide = torch.randn(2, 8)
    channel, spatial = block.attention_maps(x, guide)
    assert channel.shape == (2, 1, 8) and spatial.shape == (2, 5, 1)
    assert ((channel > 0) & (channel < 1)).all()
    other_channel, other_spatial = block.attention_maps(x, -guide)
    assert not torch.allclose(channel, other_channel)
    assert not torch.allclose(spatial, other_spatial)


def test_temporal_attention_scales_by_the_other_modalitys_gate(
        unequal_backbones):
    visual, audio = unequal_backbones
    adapter = build(unequal_backbones, visual_pooling=None, audio_pooling=None,
                    temporal=TEMPORAL, num_segments=3)
    plain = build(unequal_backbones, visual_pooling=None, audio_pooling=None)
    plain.load_state_dict(adapter.state_dict(), strict=False)
    adapter.eval()
    plain.eval()
    frames, wave = torch.randn(6, 3, 32, 32), torch.randn(6, 16000)
    out = adapter(frames, wave, visual, audio)
    tokens = plain(frames, wave, visual, audio)
    # Without pooling, the gates read each segment's mean token.
    gates = adapter.temporal(
        tokens['visual'][0].mean(1).unflatten(0, (2, 3)),
        tokens['audio'][0].mean(1).unflatten(0, (2, 3)))
    assert gates['audio_gate'].shape == (2, 3, 1)
    torch.testing.assert_close(
        out['visual'][0],
        tokens['visual'][0] * (1 + 0.1 * gates['audio_gate'].reshape(6, 1, 1)))
    torch.testing.assert_close(
        out['audio'][0],
        tokens['audio'][0] * (1 + 0.1 * gates['visual_gate'].reshape(6, 1, 1)))
    # A per-video gate: segments of one video see each other.
    shuffled = adapter(frames[[1, 0, 2, 3, 4, 5]], wave[[1, 0, 2, 3, 4, 5]],
                       visual, audio)
    assert not torch.allclose(shuffled['visual'][0][2], out['visual'][0][2])
    torch.testing.assert_close(shuffled['visual'][0][3:],
                               out['visual'][0][3:])


def test_temporal_attention_reads_the_pooled_segments(unequal_backbones):
    visual, audio = unequal_backbones
    adapter = build(unequal_backbones, temporal=TEMPORAL, num_segments=3)
    seen = {}
    adapter.temporal.register_forward_hook(
        lambda m, args, out: seen.update(args=args, gates=out))
    out = adapter(torch.randn(6, 3, 32, 32), torch.randn(6, 16000), visual,
                  audio)
    pooled_visual, pooled_audio = (a.flatten(0, 1) for a in seen['args'])
    gates = seen['gates']
    # The gate scales the tokens and hence their attention-pooled token.
    torch.testing.assert_close(
        out['visual'][0][:, 0],
        pooled_visual * (1 + 0.1 * gates['audio_gate'].reshape(6, 1)))
    torch.testing.assert_close(
        out['audio'][0][:, 0],
        pooled_audio * (1 + 0.1 * gates['visual_gate'].reshape(6, 1)))


def test_temporal_attention_needs_the_segment_count(unequal_backbones):
    visual, audio = unequal_backbones
    adapter = build(unequal_backbones, temporal=TEMPORAL)
    inputs = torch.randn(4, 3, 32, 32), torch.randn(4, 16000)
    with pytest.raises(ValueError, match='model.adapter.num_segments'):
        adapter(*inputs, visual, audio)
    with pytest.raises(ValueError, match='num_segments=3 for 4 frames'):
        adapter(*inputs, visual, audio, num_segments=3)
    out = adapter(*inputs, visual, audio, num_segments=2)
    assert out['visual'][0].shape == (4, 1, 128)


def test_in_an_av_model(build_tiny_model, batch):
    model = build_tiny_model(
        adapter=dict(type='DGSCTAdapter', num_latents=2, reduction_factor=2,
                     temporal=TEMPORAL, num_segments=3),
        fusion=dict(type='AvgTokenFusion'))
    losses = model(**model.data_preprocessor(batch, True), mode='loss')
    sum(losses.values()).backward()
    assert model.adapter.adapters['visual'][0][0].channel_out.weight.grad \
        is not None


def test_without_guided_attention_it_is_lavish_as_dgscts_code_has_it(
        unequal_backbones):
    """``guided_attention=False``: the guide, the latent exchange and the
    bottleneck only (no channel/spatial layers, no pooling map); with
    closed gates the backbones pass through."""
    visual, audio = unequal_backbones
    guided = build(unequal_backbones, visual_pooling='mean',
                   audio_pooling='mean')
    lavish = build(unequal_backbones, guided_attention=False,
                   visual_pooling='mean', audio_pooling='mean')
    block = lavish.adapters['visual'][0][0]
    assert sorted(name for name, _ in block.named_children()) == [
        'bottleneck', 'exchange', 'guide']
    attention = ('channel_guide', 'channel_query', 'channel_squeeze',
                 'channel_out', 'spatial_query', 'spatial_guide',
                 'spatial_out')
    dropped = sum(p.numel() for name, p in guided.named_parameters()
                  if name.split('.')[-2] in attention)
    assert dropped > 0
    assert sum(p.numel() for p in lavish.parameters()) == sum(
        p.numel() for p in guided.parameters()) - dropped
    frames, wave = torch.randn(2, 3, 32, 32), torch.randn(2, 16000)
    out = lavish(frames, wave, visual, audio)
    torch.testing.assert_close(
        out['visual'][0],
        visual.forward_final_norm(visual(frames)[0]).mean(1, keepdim=True))
    torch.testing.assert_close(out['audio'][0],
                               audio(wave)[0].mean(1, keepdim=True))
    open_gates(lavish)
    update, pooling = block(torch.randn(2, 64, 16), torch.randn(2, 256, 8))
    assert pooling is None and update.abs().sum() > 0
    with pytest.raises(ValueError, match='guided_attention'):
        build(unequal_backbones, guided_attention=False)
