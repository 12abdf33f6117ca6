import pytest
import torch

from molt.models.adapters import (FeatureDistillationModule,
                                  MultiheadCrossAttention, Router,
                                  TokenDistillation, TokenMixingProjection)


def test_router_weights_sum_to_one():
    router = Router(in_dims=12, other_dims=6, num_experts=4, hidden_dims=8)
    weights = router(torch.randn(5, 7, 12), torch.randn(5, 3, 6))
    assert weights.shape == (5, 4)
    torch.testing.assert_close(weights.sum(-1), torch.ones(5))
    assert (weights > 0).all()


def _single_td(bank: TokenDistillation, e: int) -> TokenDistillation:
    """Adapter ``e`` of a bank as a stand-alone Eq. 1 module."""
    latents, embed_dims = bank.latents.shape[1:]
    in_dims = bank.attn.kv_proj.weight.shape[1]
    single = TokenDistillation(in_dims, embed_dims, latents,
                               bank.attn.num_heads)
    single.load_state_dict({k: v[e:e + 1]
                            for k, v in bank.state_dict().items()})
    return single


def _single_residual(bank: TokenMixingProjection, e: int,
                     embed_dims: int) -> TokenMixingProjection:
    latents, tokens = bank.token_mix.shape[1:]
    in_dims = bank.channel_proj.in_features
    single = TokenMixingProjection(tokens, in_dims, latents, embed_dims)
    rows = slice(e * embed_dims, (e + 1) * embed_dims)
    single.load_state_dict(dict(
        token_mix=bank.token_mix[e:e + 1],
        **{'channel_proj.weight': bank.channel_proj.weight[rows],
           'channel_proj.bias': bank.channel_proj.bias[rows]}))
    return single


def _single_cross_attention(bank, e: int) -> MultiheadCrossAttention:
    dims = bank.q_proj.weight.shape[-1]
    single = MultiheadCrossAttention(dims, dims, dims, bank.num_heads)
    single.load_state_dict({k: v[e:e + 1]
                            for k, v in bank.state_dict().items()})
    return single


def test_fdm_adapters_are_eq2_and_eq3():
    """Bank i of the FDM is UDA i (Eq. 2) or CDA i - N_UDA (Eq. 3), built
    from stand-alone modules, with unequal widths and token counts (a
    1536-vs-768 situation in miniature)."""
    fdm = FeatureDistillationModule(in_dims=48, other_dims=24, num_tokens=36,
                                    embed_dims=16, num_latents=4,
                                    num_heads=2, num_uda=2, num_cda=2)
    feats, other = torch.randn(2, 36, 48), torch.randn(2, 64, 24)
    outputs = fdm.adapter_outputs(feats, other)
    assert outputs.shape == (2, 4, 4, 16)
    for i in range(4):
        own = _single_td(fdm.distill, i)(feats)[:, 0]
        residual = _single_residual(fdm.residual, i, 16)(feats)[:, 0]
        if i < 2:  # UDA: TD(z_i, f_m) + W_i f_m
            expected = own + residual
        else:  # CDA: CA_i(TD(z_i, f_m), TD(z_i^o, f_o)) + W_i f_m
            context = _single_td(fdm.distill_other, i - 2)(other)[:, 0]
            cross = _single_cross_attention(fdm.cross_attn, i - 2)
            expected = cross(own, context) + residual
        torch.testing.assert_close(outputs[:, i], expected)
    # UDAs ignore the other modality; CDAs depend on it.
    changed = fdm.adapter_outputs(feats, torch.randn(2, 64, 24))
    torch.testing.assert_close(changed[:, :2], outputs[:, :2])
    assert not torch.allclose(changed[:, 2:], outputs[:, 2:])


def test_fdm_is_the_routed_sum_of_its_adapters():
    fdm = FeatureDistillationModule(in_dims=12, other_dims=6, num_tokens=7,
                                    embed_dims=8, num_latents=3, num_heads=2,
                                    num_uda=2, num_cda=2)
    assert fdm.num_adapters == 4
    feats, other = torch.randn(2, 7, 12), torch.randn(2, 5, 6)
    tokens, weights = fdm(feats, other)
    assert tokens.shape == (2, 3, 8)
    adapters = fdm.adapter_outputs(feats, other)
    expected = sum(weights[:, i, None, None] * adapters[:, i]
                   for i in range(4))
    torch.testing.assert_close(tokens, expected)
    torch.testing.assert_close(weights, fdm.router(feats, other))


@pytest.mark.parametrize('num_uda,num_cda', [(1, 0), (0, 1)])
def test_single_adapter_needs_no_router(num_uda, num_cda):
    fdm = FeatureDistillationModule(12, 6, 7, 8, 3, 2, num_uda=num_uda,
                                    num_cda=num_cda)
    assert fdm.router is None
    assert (fdm.cross_attn is None) == (num_cda == 0)
    feats, other = torch.randn(2, 7, 12), torch.randn(2, 5, 6)
    tokens, weights = fdm(feats, other)
    torch.testing.assert_close(weights, torch.ones(2, 1))
    torch.testing.assert_close(tokens,
                               fdm.adapter_outputs(feats, other)[:, 0])


@pytest.mark.parametrize('num_uda,num_cda', [(0, 0), (-1, 2)])
def test_bad_adapter_counts_name_the_fields(num_uda, num_cda):
    with pytest.raises(ValueError, match='adapter.num_uda'):
        FeatureDistillationModule(12, 6, 7, 8, 3, 2, num_uda, num_cda)
