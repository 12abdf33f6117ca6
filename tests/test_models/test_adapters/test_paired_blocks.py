"""Half-block stepping, block pairing and the parts DG-SCT and AVMoE share."""
import pytest
import torch
from torch.nn import functional as F

from molt.models.adapters import AVMoEAdapter, DGSCTAdapter
from molt.models.adapters.in_block_parts import (GatedBottleneck,
                                                 LatentTokenExchange,
                                                 OtherModalityProjection)
from molt.models.utils import BackboneLayout
from molt_testing import open_gates


def test_two_halves_are_one_block(unequal_backbones):
    visual, _ = unequal_backbones
    x = visual.forward_stem(torch.randn(2, 3, 32, 32))
    half = visual.forward_mlp_residual(visual.forward_attn_residual(x, 0), 0)
    torch.testing.assert_close(half, visual.forward_block(x, 0))

    def attn(t):
        return 0.1 * t.flip(1)

    def mlp(t):
        return t.sin()

    half = visual.forward_mlp_residual(
        visual.forward_attn_residual(x, 0, attn), 0, mlp)
    torch.testing.assert_close(
        half, visual.forward_block(x, 0, attn_adapter=attn, mlp_adapter=mlp))


@pytest.mark.parametrize('scheme', [DGSCTAdapter, AVMoEAdapter])
def test_paired_blocks_get_two_adapters_each(unequal_backbones, scheme):
    visual, audio = unequal_backbones
    adapter = scheme(BackboneLayout.of(visual), BackboneLayout.of(audio),
                     num_latents=2, reduction_factor=2)
    # Audio block k pairs with the last visual block of its group; visual
    # blocks 0, 2 and 6 have no partner and get no adapter.
    assert adapter.site_pairs == [(1, 0), (3, 1), (4, 2), (5, 3), (7, 4)]
    for name in ('visual', 'audio'):
        assert len(adapter.adapters[name]) == 5
        assert all(len(site) == 2 for site in adapter.adapters[name])
    assert adapter.sites['visual'] == {1: 0, 3: 1, 4: 2, 5: 3, 7: 4}


@pytest.mark.parametrize('scheme', [DGSCTAdapter, AVMoEAdapter])
def test_closed_gates_leave_the_backbones_unchanged(unequal_backbones,
                                                    scheme):
    """New adapters add exactly zero, so the driver must reproduce the
    plain backbones, unadapted stages included."""
    visual, audio = unequal_backbones
    kwargs = dict(stages=(0, 2)) if scheme is AVMoEAdapter else {}
    adapter = scheme(BackboneLayout.of(visual), BackboneLayout.of(audio),
                     num_latents=2, reduction_factor=2, visual_pooling=None,
                     audio_pooling=None, final_norm=(), **kwargs)
    frames, wave = torch.randn(2, 3, 32, 32), torch.randn(2, 16000)
    out = adapter(frames, wave, visual, audio, return_stage_maps=True)
    torch.testing.assert_close(out['visual'][0], visual(frames)[0])
    torch.testing.assert_close(out['audio'][0], audio(wave)[0])
    _, maps = visual(frames, [0], return_stage_maps=True)
    for ours, plain in zip(out['visual_maps'], maps):
        torch.testing.assert_close(ours, plain)


# Parameters of a scheme's first visual adapter (stage 0) that the loss
# must reach.
FIRST_ADAPTER_PARAMS = {
    DGSCTAdapter:
    lambda a: (a.guide.token_proj.weight, a.exchange.latents,
               a.channel_query.weight, a.spatial_query.weight,
               a.bottleneck.down.weight),
    AVMoEAdapter:
    lambda a: (a.guide.token_proj.weight, a.router[0].weight,
               a.experts[0].exchange.latents,
               a.experts[1].bottleneck.up.weight),
}


@pytest.mark.parametrize('scheme', [DGSCTAdapter, AVMoEAdapter])
def test_gradients_reach_the_adapters_through_frozen_backbones(
        unequal_backbones, scheme):
    visual, audio = unequal_backbones
    adapter = scheme(BackboneLayout.of(visual), BackboneLayout.of(audio),
                     num_latents=2, reduction_factor=2)
    open_gates(adapter)
    frames = torch.randn(2, 3, 32, 32, requires_grad=True)
    out = adapter(frames, torch.randn(2, 16000), visual, audio)
    (out['visual'][0].sum() + out['audio'][0].sum()).backward()
    for param in FIRST_ADAPTER_PARAMS[scheme](adapter.adapters['visual'][0][0]):
        assert param.grad is not None and param.grad.abs().sum() > 0
    # The loss reaches the input only through every visual block.
    assert frames.grad.abs().sum() > 0
    for backbone in (visual, audio):
        assert all(not p.requires_grad and p.grad is None
                   for p in backbone.parameters())


def test_final_norm_is_the_frozen_swin_norm(unequal_backbones):
    visual, audio = unequal_backbones
    adapter = AVMoEAdapter(BackboneLayout.of(visual),
                           BackboneLayout.of(audio), num_latents=2,
                           reduction_factor=2, visual_pooling=None,
                           audio_pooling=None)  # final_norm=('visual', )
    frames, wave = torch.randn(2, 3, 32, 32), torch.randn(2, 16000)
    out = adapter(frames, wave, visual, audio, return_stage_maps=True)
    plain = visual(frames)[0]
    torch.testing.assert_close(out['visual'][0], visual.encoder.norm(plain))
    torch.testing.assert_close(out['visual_maps'][-1].flatten(2).transpose(
        1, 2), visual.encoder.norm(plain))
    torch.testing.assert_close(out['audio'][0], audio(wave)[0])
    with pytest.raises(ValueError, match="unknown modalities \\['text'\\]"):
        AVMoEAdapter(BackboneLayout.of(visual), BackboneLayout.of(audio),
                     final_norm=('text', ))


def test_attention_adapters_read_states_entering_the_block(unequal_backbones):
    """Both attention-side adapters see the other modality before the
    block; both MLP-side adapters see it after the attention half."""
    visual, audio = unequal_backbones
    adapter = AVMoEAdapter(BackboneLayout.of(visual),
                           BackboneLayout.of(audio), num_latents=2,
                           reduction_factor=2, stages=(0, ))
    seen = {}
    for name in ('visual', 'audio'):
        for half, module in enumerate(adapter.adapters[name][0]):
            module.register_forward_hook(
                lambda m, args, out, key=(name, half): seen.update(
                    {key: args[1].clone()}))
    frames, wave = torch.randn(1, 3, 32, 32), torch.randn(1, 16000)
    adapter(frames, wave, visual, audio)
    # Pair 0 is visual block 1 with audio block 0; visual block 0 runs
    # first, unadapted.
    v_in = visual.forward_block(visual.forward_stem(frames), 0)
    a_in = audio.forward_stem(wave)
    torch.testing.assert_close(seen['audio', 0], v_in.flatten(1, 2))
    torch.testing.assert_close(seen['visual', 0], a_in.flatten(1, 2))
    torch.testing.assert_close(
        seen['audio', 1], visual.forward_attn_residual(v_in, 1).flatten(1, 2))
    torch.testing.assert_close(
        seen['visual', 1], audio.forward_attn_residual(a_in, 0).flatten(1, 2))


def test_shared_backbone_pairs_every_block(unequal_backbones):
    visual, _ = unequal_backbones
    layout = BackboneLayout.of(visual)
    adapter = DGSCTAdapter(layout, layout, num_latents=2, reduction_factor=2)
    assert adapter.site_pairs == [(i, i) for i in range(8)]
    out = adapter(torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32),
                  visual, visual)
    assert out['visual'][0].shape == out['audio'][0].shape == (2, 1, 128)


def test_other_modality_projection_maps_tokens_then_channels():
    proj = OtherModalityProjection(other_tokens=6, num_tokens=4,
                                   other_dims=3, dims=5)
    other = torch.randn(2, 6, 3)
    expected = torch.einsum('nm,bmc->bnc', proj.token_proj.weight, other)
    expected = expected + proj.token_proj.bias[:, None]
    expected = expected @ proj.channel_proj.weight.T + proj.channel_proj.bias
    torch.testing.assert_close(proj(other), expected)
    with pytest.raises(ValueError, match=r'built for \(B, 6, 3\)'):
        proj(torch.randn(2, 5, 3))


def test_latent_exchange_is_unscaled_attention_through_latents():
    exchange = LatentTokenExchange(dims=4, num_latents=3)
    x, context = torch.randn(2, 5, 4), torch.randn(2, 7, 4)
    torch.testing.assert_close(exchange(x, context), x)  # gate starts at 0
    with torch.no_grad():
        exchange.gate.fill_(0.5)
    z = exchange.latents.expand(2, -1, -1)
    z = z + (z @ context.transpose(1, 2)).softmax(-1) @ context
    expected = x + 0.5 * (x @ z.transpose(1, 2)).softmax(-1) @ z
    torch.testing.assert_close(exchange(x, context), expected)
    assert ((exchange.latents >= 0) & (exchange.latents < 1)).all()


def test_gated_bottleneck():
    bottleneck = GatedBottleneck(8, reduction_factor=2, num_groups=2,
                                 use_bn=False, activation=False)
    x = torch.randn(2, 5, 8)
    assert not bottleneck(x).any()  # the gate starts at 0
    with torch.no_grad():
        bottleneck.gate.fill_(1.)
    # Without BN and activation: LN -> grouped linear maps -> LN.
    down = torch.block_diag(*bottleneck.down.weight[..., 0].chunk(2, 0))
    up = torch.block_diag(*bottleneck.up.weight[..., 0].chunk(2, 0))
    hidden = F.layer_norm(x, (8, ), bottleneck.norm_in.weight,
                          bottleneck.norm_in.bias)
    expected = F.layer_norm(hidden @ down.T @ up.T, (8, ),
                            bottleneck.norm_out.weight,
                            bottleneck.norm_out.bias)
    torch.testing.assert_close(bottleneck(x), expected)
    with pytest.raises(ValueError, match='num_groups=4'):
        GatedBottleneck(8, reduction_factor=4, num_groups=4)


def test_unknown_pooling_and_stage_are_refused(unequal_backbones):
    visual, audio = unequal_backbones
    layouts = BackboneLayout.of(visual), BackboneLayout.of(audio)
    with pytest.raises(ValueError, match="visual_pooling='max'"):
        AVMoEAdapter(*layouts, visual_pooling='max')
    with pytest.raises(ValueError, match="audio_pooling='attention'"):
        AVMoEAdapter(*layouts, audio_pooling='attention')
    with pytest.raises(IndexError, match='stages: 4'):
        AVMoEAdapter(*layouts, stages=(4, ))
