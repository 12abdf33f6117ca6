"""AVMoE on tiny backbones of unequal widths and token counts."""
import pytest
import torch
from torch.nn import functional as F

from molt.models.adapters import AVMoEAdapter, AVMoEBlockAdapter
from molt.models.adapters.avmoe import UniModalExpert
from molt.models.utils import BackboneLayout
from molt_testing import open_gates


def build(unequal_backbones, **kwargs):
    visual, audio = unequal_backbones
    kwargs = dict(dict(num_latents=2, reduction_factor=2), **kwargs)
    return AVMoEAdapter(BackboneLayout.of(visual), BackboneLayout.of(audio),
                        **kwargs)


def block(**kwargs):
    kwargs = dict(
        dict(dims=8, num_tokens=5, other_dims=4, other_tokens=3,
             num_latents=2, reduction_factor=2, use_bn=False), **kwargs)
    return AVMoEBlockAdapter(**kwargs)


def test_shapes_and_router_weights(unequal_backbones):
    visual, audio = unequal_backbones
    adapter = build(unequal_backbones, num_cross_experts=1, num_uni_experts=2,
                    visual_pooling=None)
    open_gates(adapter)
    out = adapter(torch.randn(4, 3, 32, 32), torch.randn(4, 16000), visual,
                  audio, return_stage_maps=True)
    assert out['visual'][0].shape == (4, 1, 128)  # the last grid is 1x1
    assert out['audio'][0].shape == (4, 1, 64)  # mean-pooled
    assert [m.shape[1] for m in out['visual_maps']] == [16, 32, 64, 128]
    for name in ('visual', 'audio'):
        weights = out[f'{name}_router']
        assert len(weights) == 2 * 5  # two adapters per paired block
        for w in weights:
            assert w.shape == (4, 3)
            torch.testing.assert_close(w.sum(-1), torch.ones(4))


def test_skipped_stages_have_no_adapters(unequal_backbones):
    # The authors' num_skip=2.
    adapter = build(unequal_backbones, stages=(0, 2))
    assert adapter.site_pairs == [(1, 0), (4, 2), (5, 3)]
    assert len(adapter.adapters['audio']) == 3


def test_update_is_the_router_weighted_sum_of_the_experts():
    moe = block(num_cross_experts=1, num_uni_experts=2)
    open_gates(moe)
    last = moe.router[-2]  # the MLP's last Linear (a Dropout follows)
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([0.5, -1., 2.]))
    x, other = torch.randn(2, 5, 8), torch.randn(2, 3, 4)
    update, weights = moe(x, other)
    expected_w = torch.tensor([0.5, -1., 2.]).softmax(0)
    torch.testing.assert_close(weights, expected_w.expand(2, 3))
    guide = moe.guide(other)
    expected = sum(w * expert(x, guide)
                   for w, expert in zip(expected_w, moe.experts))
    torch.testing.assert_close(update, expected)


def test_router_reads_pooled_tokens_and_pooled_guide():
    moe = block()
    x, other = torch.randn(2, 5, 8), torch.randn(2, 3, 4)
    guide = moe.guide(other)
    logits = moe.router(torch.cat([x.mean(1), guide.mean(1)], -1))
    torch.testing.assert_close(moe.route(x, guide), logits.softmax(-1))
    assert [layer.out_features for layer in moe.router
            if isinstance(layer, torch.nn.Linear)] == [128, 32, 2]


def test_token_routing_weighs_every_token():
    moe = block(routing='token')
    x, other = torch.randn(2, 5, 8), torch.randn(2, 3, 4)
    _, weights = moe(x, other)
    assert weights.shape == (2, 5, 2)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 5))
    assert not torch.allclose(weights[:, 0], weights[:, 1])


def test_router_noise_only_in_training():
    moe = block(router_noise_std=0.5)
    x, other = torch.randn(2, 5, 8), torch.randn(2, 3, 4)
    moe.eval()
    torch.testing.assert_close(moe(x, other)[1], moe(x, other)[1])
    moe.train()
    assert not torch.allclose(moe(x, other)[1], moe(x, other)[1])


def test_experts():
    moe = block(num_cross_experts=1, num_uni_experts=1)
    cross, uni = moe.experts
    assert isinstance(cross.bottleneck.act, torch.nn.ReLU)
    assert isinstance(uni.bottleneck.act, torch.nn.Identity)
    x, guide = torch.randn(2, 5, 8), torch.randn(2, 5, 8)
    open_gates(moe)
    # The uni-modal expert never reads the other modality.
    torch.testing.assert_close(uni(x, guide), uni(x, -guide))
    assert not torch.allclose(cross(x, guide), cross(x, -guide))
    full = UniModalExpert(8, 2, 2, False, self_attention='full')
    latent = UniModalExpert(8, 2, 2, False, self_attention='latent')
    for expert in (full, latent):
        assert expert(x).shape == (2, 5, 8)
    with pytest.raises(ValueError, match="self_attention='v3'"):
        UniModalExpert(8, 2, 2, False, self_attention='v3')


def test_load_balance_loss():
    uniform = [torch.full((4, 2), 0.5), torch.full((4, 3, 2), 0.5)]
    assert AVMoEAdapter.load_balance_loss(uniform) == 0
    skewed = torch.tensor([[0.9, 0.1], [0.7, 0.3]])
    mean = torch.tensor([0.8, 0.2])
    expected = (0.5 * (torch.log(0.5 / mean))).sum() / 2
    torch.testing.assert_close(
        AVMoEAdapter.load_balance_loss([skewed]), expected)
    torch.testing.assert_close(
        AVMoEAdapter.load_balance_loss([skewed, skewed]), 2 * expected)
    # F.kl_div's 'batchmean' on a vector divides by the number of experts.
    torch.testing.assert_close(
        expected, F.kl_div(mean.log(), torch.full((2, ), 0.5),
                           reduction='batchmean'))


def test_in_an_av_model(build_tiny_model, batch):
    model = build_tiny_model(
        adapter=dict(type='AVMoEAdapter', num_latents=2, reduction_factor=2),
        fusion=dict(type='AvgTokenFusion'))
    losses = model(**model.data_preprocessor(batch, True), mode='loss')
    sum(losses.values()).backward()
    assert model.adapter.adapters['audio'][0][1].router[0].weight.grad \
        is not None


def test_the_model_adds_the_load_balance_term(build_tiny_model, batch):
    adapter = dict(type='AVMoEAdapter', num_latents=2, reduction_factor=2)
    plain = build_tiny_model(adapter=adapter,
                             fusion=dict(type='AvgTokenFusion'))
    inputs = plain.data_preprocessor(batch, True)
    assert 'loss_balance' not in plain(**inputs, mode='loss')
    model = build_tiny_model(
        adapter=dict(adapter, load_balance_weight=0.5),
        fusion=dict(type='AvgTokenFusion'))
    model.eval()  # no router noise: the weights below are the loss's
    losses = model(**inputs, mode='loss')
    feats = model.extract_feat(inputs['inputs'], inputs['data_samples'])
    weights = feats['visual_router'] + feats['audio_router']
    torch.testing.assert_close(
        losses['loss_balance'],
        0.5 * AVMoEAdapter.load_balance_loss(weights))
