"""MoLT, Mettle-style and LAVisH schemes on tiny backbones."""
import pytest
import torch

from molt.models.adapters import LAVisHAdapter, MoLTAdapter
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
                          embed_dims=16, num_latents=5)
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


def test_molt_wrong_number_of_layers(layouts):
    visual, audio = layouts
    adapter = MoLTAdapter(BackboneLayout.of(visual), BackboneLayout.of(audio))
    with pytest.raises(ValueError, match='expects 2 visual'):
        adapter([torch.randn(2, 1, 128)], [torch.randn(2, 4, 64)] * 2)


def test_mettle_style_is_a_configuration(layouts):
    visual, audio = layouts
    adapter = MoLTAdapter(BackboneLayout.of(visual), BackboneLayout.of(audio),
                          visual_layers='all', audio_layers='all', num_uda=1,
                          num_cda=0)
    assert len(adapter.visual_fdms) == 8 and len(adapter.audio_fdms) == 5
    assert all(fdm.router is None for fdm in adapter.visual_fdms)
    # Every visual layer pairs with an audio layer at the same depth.
    assert adapter.visual_partners == [0, 1, 1, 2, 2, 3, 3, 4]


def test_lavish_with_closed_gates_leaves_backbones_unchanged(layouts):
    visual, audio = layouts
    adapter = LAVisHAdapter(BackboneLayout.of(visual),
                            BackboneLayout.of(audio), pool_outputs=False)
    frames, wave = torch.randn(2, 3, 32, 32), torch.randn(2, 16000)
    out = adapter(frames, wave, visual, audio, return_stage_maps=True)
    torch.testing.assert_close(out['visual'][0], visual(frames)[0])
    torch.testing.assert_close(out['audio'][0], audio(wave)[0])
    _, maps = visual(frames, [0], return_stage_maps=True)
    for ours, plain in zip(out['visual_maps'], maps):
        torch.testing.assert_close(ours, plain)


def test_lavish_steps_paired_blocks_in_lockstep(layouts):
    visual, audio = layouts  # per stage: visual 2,2,2,2 and audio 1,1,2,1
    adapter = LAVisHAdapter(BackboneLayout.of(visual),
                            BackboneLayout.of(audio))
    assert adapter.deep == 'visual'
    assert adapter.shallow_after == {1: 0, 3: 1, 4: 2, 5: 3, 7: 4}
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
    assert adapter.shallow_after == {i: i for i in range(8)}
    out = adapter(torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32),
                  visual, visual)
    assert out['visual'][0].shape == out['audio'][0].shape == (2, 1, 128)
