"""MoLT, Mettle-style and LAVisH schemes on tiny backbones, and the
contract every scheme keeps."""
import pytest
import torch

from molt.models.adapters import (AVMoEAdapter, BaseAdapterScheme,
                                  DGSCTAdapter, LAVisHAdapter, MoLTAdapter)
from molt.models.utils import BackboneLayout
from molt.registry import MODELS


@pytest.fixture
def layouts(tiny_swin_cfg, tiny_htsat_cfg):
    visual = MODELS.build(tiny_swin_cfg)
    audio = MODELS.build(dict(tiny_htsat_cfg, depths=(1, 1, 2, 1)))
    return visual, audio


def test_molt_defaults_read_the_last_two_blocks(layouts):
    visual, audio = layouts
    adapter = MoLTAdapter(BackboneLayout.of(visual), BackboneLayout.of(audio),
                          embed_dims=16, num_latents=5, num_heads=4)
    assert adapter.visual_layers == [6, 7]
    assert adapter.audio_layers == [3, 4]
    assert adapter.visual_partners == [0, 1]
    feats_v = visual(torch.randn(2, 3, 32, 32), adapter.visual_layers)
    feats_a = audio(torch.randn(2, 16000), adapter.audio_layers)
    out = adapter(feats_v, feats_a)
    assert [t.shape for t in out['visual']] == [(2, 5, 16)] * 2
    assert [t.shape for t in out['audio']] == [(2, 5, 16)] * 2
    for weights in out['visual_router'] + out['audio_router']:
        assert weights.shape == (2, 4)
        torch.testing.assert_close(weights.sum(-1), torch.ones(2))


# The late blocks of a Swin-V2-L / HTS-AT pair in miniature: visual 48 wide
# (3x3 tokens), audio 24 wide (4x4 tokens).
VISUAL = BackboneLayout(dims=[12, 24, 48, 48], num_tokens=[144, 36, 9, 9],
                        stages=[0, 1, 2, 2])
AUDIO = BackboneLayout(dims=[6, 12, 24, 24], num_tokens=[256, 64, 16, 16],
                       stages=[0, 1, 2, 2])


def late_features(batch=2):
    visual = [torch.randn(batch, 9, 48) for _ in range(2)]
    audio = [torch.randn(batch, 16, 24) for _ in range(2)]
    return visual, audio


def test_full_width_tokens_per_modality():
    adapter = MoLTAdapter(VISUAL, AUDIO, num_latents=4, num_heads=4)
    assert adapter.out_dims == dict(visual=48, audio=24)
    out = adapter(*late_features())
    assert [t.shape for t in out['visual']] == [(2, 4, 48)] * 2
    assert [t.shape for t in out['audio']] == [(2, 4, 24)] * 2
    for fdm in list(adapter.visual_fdms) + list(adapter.audio_fdms):
        assert fdm.residual.channel_proj is None  # W f mixes tokens only


def test_weights_are_tied_per_modality():
    """``W^{Q,K,V}_m``: one TD weight set per modality, serving its
    adapters and layers; one CA per modality; latents and ``W_i`` per
    adapter; one router per layer."""
    adapter = MoLTAdapter(VISUAL, AUDIO, num_latents=4, num_heads=4)
    for fdms in (adapter.visual_fdms, adapter.audio_fdms):
        assert fdms[0].distill.attn is fdms[1].distill.attn
        assert fdms[0].cross_attn is fdms[1].cross_attn
        assert fdms[0].distill.attn.q_proj.weight.shape[0] == 1
        assert fdms[0].distill.latents is not fdms[1].distill.latents
        assert fdms[0].router is not fdms[1].router
    assert (adapter.visual_fdms[0].distill.attn
            is not adapter.audio_fdms[0].distill.attn)
    per_adapter = MoLTAdapter(VISUAL, AUDIO, num_latents=4, num_heads=4,
                              weight_scope='adapter')
    fdms = per_adapter.visual_fdms
    assert fdms[0].distill.attn is not fdms[1].distill.attn
    assert fdms[0].distill.attn.q_proj.weight.shape[0] == 4
    assert fdms[0].cross_attn.q_proj.weight.shape[0] == 2
    assert fdms[0].router is not fdms[1].router


def test_cdas_read_their_partners_cda_tokens():
    """Visual CDA i attends to ``TD(z_c^a, f_a)`` of audio CDA i on the
    paired layer, and vice versa."""
    adapter = MoLTAdapter(VISUAL, AUDIO, num_latents=4, num_heads=4)
    visual, audio = late_features()
    out = adapter(visual, audio)
    for name, other, feats, others in (('visual', 'audio', visual, audio),
                                       ('audio', 'visual', audio, visual)):
        fdms = getattr(adapter, f'{name}_fdms')
        other_fdms = getattr(adapter, f'{other}_fdms')
        for i, partner in enumerate(getattr(adapter, f'{name}_partners')):
            partner_fdm = other_fdms[partner]
            tokens = partner_fdm.cda_tokens(
                partner_fdm.distill(others[partner]))
            expected, _ = fdms[i](feats[i], others[partner], tokens)
            torch.testing.assert_close(out[name][i], expected)


def count_by_hand(weight_scope, latents=4, hidden=8):
    """The adapter's parameters from the equations' shapes (biases
    included): two late layers per modality, 2 UDA + 2 CDA each."""
    def td(dims):  # W_Q, W_K, W_V in R^{dims x dims}
        return 3 * dims * dims + 3 * dims

    def ca(dims, other):  # W_Q: dims -> dims, W_K, W_V: other -> dims
        return dims * dims + dims + 2 * other * dims + 2 * dims

    total = 0
    for dims, other, tokens in ((48, 24, 9), (24, 48, 16)):
        layers, adapters, cdas = 2, 4, 2
        total += layers * adapters * latents * (dims + tokens)  # z_i, P_i
        total += layers * ((dims + other) * hidden + hidden
                           + hidden * adapters + adapters)  # routers
        if weight_scope == 'modality':
            total += td(dims) + ca(dims, other)
        else:
            total += layers * (adapters * td(dims) + cdas * ca(dims, other))
    return total


@pytest.mark.parametrize('weight_scope', ['modality', 'adapter'])
def test_parameters_follow_the_equations(weight_scope):
    adapter = MoLTAdapter(VISUAL, AUDIO, num_latents=4, num_heads=4,
                          weight_scope=weight_scope, router_hidden_dims=8)
    assert sum(p.numel() for p in adapter.parameters()) == count_by_hand(
        weight_scope)


def test_layers_of_different_widths_project_into_the_widest():
    adapter = MoLTAdapter(VISUAL, AUDIO, visual_layers=[1, 3],
                          audio_layers=[1, 3], num_latents=2, num_heads=4)
    assert adapter.out_dims == dict(visual=48, audio=24)
    narrow, wide = adapter.visual_fdms
    assert narrow.residual.channel_proj.in_features == 24
    assert wide.residual.channel_proj is None
    assert narrow.distill.attn is not wide.distill.attn  # one per width
    visual = [torch.randn(2, 36, 24), torch.randn(2, 9, 48)]
    audio = [torch.randn(2, 64, 12), torch.randn(2, 16, 24)]
    out = adapter(visual, audio)
    assert [t.shape for t in out['visual']] == [(2, 2, 48)] * 2


def test_bad_options_name_the_field():
    with pytest.raises(ValueError, match='adapter.weight_scope'):
        MoLTAdapter(VISUAL, AUDIO, num_heads=4, weight_scope='layer')


def test_molt_wrong_number_of_layers(layouts):
    visual, audio = layouts
    adapter = MoLTAdapter(BackboneLayout.of(visual), BackboneLayout.of(audio),
                          num_heads=4)
    with pytest.raises(ValueError, match='expects 2 visual'):
        adapter([torch.randn(2, 1, 128)], [torch.randn(2, 4, 64)] * 2)


def test_mettle_style_is_a_configuration(layouts):
    visual, audio = layouts
    adapter = MoLTAdapter(BackboneLayout.of(visual), BackboneLayout.of(audio),
                          visual_layers='all', audio_layers='all', num_uda=1,
                          num_cda=0, embed_dims=16, num_heads=4)
    assert len(adapter.visual_fdms) == 8 and len(adapter.audio_fdms) == 5
    assert all(fdm.router is None for fdm in adapter.visual_fdms)
    # Every visual layer pairs with an audio layer at the same depth.
    assert adapter.visual_partners == [0, 1, 1, 2, 2, 3, 3, 4]


def test_lavish_with_closed_gates_leaves_backbones_unchanged(layouts):
    visual, audio = layouts
    adapter = LAVisHAdapter(BackboneLayout.of(visual),
                            BackboneLayout.of(audio))
    frames, wave = torch.randn(2, 3, 32, 32), torch.randn(2, 16000)
    out = adapter(frames, wave, visual, audio, return_stage_maps=True)
    # The final tokens, mean-pooled (LAVisH's pooled final features).
    torch.testing.assert_close(out['visual'][0],
                               visual(frames)[0].mean(1, keepdim=True))
    torch.testing.assert_close(out['audio'][0],
                               audio(wave)[0].mean(1, keepdim=True))
    _, maps = visual(frames, [0], return_stage_maps=True)
    for ours, plain in zip(out['visual_maps'], maps):
        torch.testing.assert_close(ours, plain)


def test_lavish_steps_paired_blocks_in_lockstep(layouts):
    visual, audio = layouts  # per stage: visual 2,2,2,2 and audio 1,1,2,1
    adapter = LAVisHAdapter(BackboneLayout.of(visual),
                            BackboneLayout.of(audio))
    assert adapter.deep == 'visual'
    # deep block -> the shallow block that runs right after it
    assert adapter.partners == {1: 0, 3: 1, 4: 2, 5: 3, 7: 4}
    # Every block of both backbones is adapted, unpaired ones included.
    assert len(adapter.adapters['visual']) == 8
    assert len(adapter.adapters['audio']) == 5
    calls = []
    for name in ('visual', 'audio'):
        for index, pair in enumerate(adapter.adapters[name]):
            pair[0].register_forward_hook(
                lambda *args, tag=f'{name[0]}{index}': calls.append(tag))
    adapter(torch.randn(1, 3, 32, 32), torch.randn(1, 16000), visual, audio)
    assert calls == ['v0', 'v1', 'a0', 'v2', 'v3', 'a1', 'v4', 'a2', 'v5',
                     'a3', 'v6', 'v7', 'a4']


def test_lavish_gradients_flow_through_the_frozen_backbones(layouts):
    visual, audio = layouts
    adapter = LAVisHAdapter(BackboneLayout.of(visual),
                            BackboneLayout.of(audio))
    for param in adapter.parameters():
        if param.numel() == 1:
            param.data.fill_(0.5)
    out = adapter(torch.randn(2, 3, 32, 32), torch.randn(2, 16000), visual,
                  audio)
    (out['visual'][0].sum() + out['audio'][0].sum()).backward()
    first_visual = adapter.adapters['visual'][0][0]
    assert first_visual.down.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in visual.parameters())
    assert all(p.grad is None for p in audio.parameters())


def test_lavish_shared_backbone_pairs_block_to_block(layouts):
    visual, _ = layouts
    layout = BackboneLayout.of(visual)
    adapter = LAVisHAdapter(layout, layout)
    assert adapter.partners == {i: i for i in range(8)}
    out = adapter(torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32),
                  visual, visual)
    assert out['visual'][0].shape == out['audio'][0].shape == (2, 1, 128)


@pytest.mark.parametrize('scheme,kwargs', [
    (MoLTAdapter, dict(visual_layers=[3, 7], audio_layers='all',
                       num_heads=4)),
    (LAVisHAdapter, {}),
    (DGSCTAdapter, dict(num_latents=2, reduction_factor=2)),
    (AVMoEAdapter, dict(num_latents=2, reduction_factor=2)),
])
def test_every_scheme_keeps_the_contract(layouts, scheme, kwargs):
    """What AVModel relies on (BaseAdapterScheme): one token set per entry
    of ``layers(m)``, ``out_dims[m]`` wide, called as ``is_parallel``
    says; sequential schemes return the tokens leaving the last block."""
    visual, audio = layouts
    adapter = scheme(BackboneLayout.of(visual), BackboneLayout.of(audio),
                     **kwargs)
    assert isinstance(adapter, BaseAdapterScheme)
    frames, wave = torch.randn(2, 3, 32, 32), torch.randn(2, 16000)
    if adapter.is_parallel:
        out = adapter(visual(frames, adapter.layers('visual')),
                      audio(wave, adapter.layers('audio')))
        assert adapter.layers('audio') == list(range(5))
    else:
        out = adapter(frames, wave, visual, audio)
        assert adapter.layers('visual') == [7]
        assert adapter.layers('audio') == [4]
    for name in ('visual', 'audio'):
        assert len(out[name]) == len(adapter.layers(name))
        assert all(t.shape[0] == 2 and t.shape[-1] == adapter.out_dims[name]
                   for t in out[name])
    assert isinstance(adapter.adapter_losses(out), dict)
