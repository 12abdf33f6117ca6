import pytest
import torch

from molt.models.adapters import (FeatureDistillationModule, Router,
                                  TokenDistillation)
from molt.models.layers import MultiheadCrossAttention


def test_router_weights_sum_to_one():
    router = Router(in_dims=12, other_dims=6, num_experts=4, hidden_dims=8)
    weights = router(torch.randn(5, 7, 12), torch.randn(5, 3, 6))
    assert weights.shape == (5, 4)
    torch.testing.assert_close(weights.sum(-1), torch.ones(5))
    assert (weights > 0).all()


def single_td(bank: TokenDistillation, e: int) -> TokenDistillation:
    """Adapter ``e`` of a bank as a stand-alone Eq. 2 module."""
    latents, embed_dims = bank.latents.shape[1:]
    in_dims = bank.attn.kv_proj.weight.shape[1]
    single = TokenDistillation(in_dims, embed_dims, latents,
                               bank.attn.num_heads)
    single.load_state_dict({k: v[e:e + 1]
                            for k, v in bank.state_dict().items()})
    return single


def single_cross_attention(bank, e: int) -> MultiheadCrossAttention:
    """CA of CDA ``e`` (no output projection, like TD)."""
    query_dims = bank.q_proj.weight.shape[1]
    kv_dims = bank.kv_proj.weight.shape[1]
    embed_dims = bank.q_proj.weight.shape[-1]
    single = MultiheadCrossAttention(query_dims, kv_dims, embed_dims,
                                     bank.num_heads, out_proj=False)
    single.load_state_dict({k: v[e:e + 1]
                            for k, v in bank.state_dict().items()})
    return single


def test_full_width_fdm_adapters_are_eq1_and_eq3():
    """Bank i of a full-width FDM is UDA i (Eq. 1) or CDA i - N_UDA (Eq. 3),
    rebuilt from stand-alone modules: latent tokens as wide as the layer
    (48), ``W f`` a pure token-mixing map, and the CA's keys/values mapping
    the partner's 24-wide tokens into this modality's width (a 1536-vs-768
    situation in miniature)."""
    fdm = FeatureDistillationModule(in_dims=48, other_dims=24, num_tokens=36,
                                    num_latents=4, num_heads=2, num_uda=2,
                                    num_cda=2)
    assert fdm.embed_dims == 48 and fdm.residual.channel_proj is None
    assert fdm.distill.latents.shape == (4, 4, 48)
    assert fdm.cross_attn.kv_proj.weight.shape == (2, 24, 2 * 48)
    feats, other = torch.randn(2, 36, 48), torch.randn(2, 64, 24)
    partner = torch.randn(2, 2, 4, 24)  # the audio CDAs' TD(z_c^a, f_a)
    outputs = fdm.adapter_outputs(feats, other, partner)
    assert outputs.shape == (2, 4, 4, 48)
    for i in range(4):
        own = single_td(fdm.distill, i)(feats)[:, 0]
        residual = fdm.residual.token_mix[i] @ feats  # P_i f, (2, 4, 48)
        if i < 2:  # UDA: TD(z_i, f_m) + W_i f_m
            expected = own + residual
        else:  # CDA: CA_i(TD(z_i, f_m), TD(z_i^o, f_o)) + W_i f_m
            cross = single_cross_attention(fdm.cross_attn, i - 2)
            expected = cross(own, partner[:, i - 2]) + residual
        torch.testing.assert_close(outputs[:, i], expected)
    # UDAs ignore the other modality; CDAs depend on it.
    changed = fdm.adapter_outputs(feats, other, torch.randn(2, 2, 4, 24))
    torch.testing.assert_close(changed[:, :2], outputs[:, :2])
    assert not torch.allclose(changed[:, 2:], outputs[:, 2:])
    assert fdm.cda_tokens(fdm.distill(feats)).shape == (2, 2, 4, 48)


def test_partner_tokens_are_required():
    fdm = FeatureDistillationModule(12, 6, 7, num_latents=3, num_heads=2)
    with pytest.raises(ValueError, match="other modality's CDA tokens"):
        fdm(torch.randn(2, 7, 12), torch.randn(2, 5, 6))


def test_narrow_fdm_projects_channels():
    """An ``embed_dims`` narrower than the layer adds ``Q`` to ``W f``."""
    fdm = FeatureDistillationModule(in_dims=12, other_dims=6, num_tokens=7,
                                    num_latents=3, num_heads=2, num_uda=1,
                                    num_cda=0, embed_dims=8)
    feats = torch.randn(2, 7, 12)
    proj = fdm.residual.channel_proj
    expected = (single_td(fdm.distill, 0)(feats)[:, 0]
                + fdm.residual.token_mix[0] @ proj(feats))
    tokens, weights = fdm(feats, torch.randn(2, 5, 6))
    torch.testing.assert_close(tokens, expected)
    assert tokens.shape == (2, 3, 8) and fdm.router is None


def test_fdm_is_the_routed_sum_of_its_adapters():
    fdm = FeatureDistillationModule(in_dims=12, other_dims=6, num_tokens=7,
                                    num_latents=3, num_heads=2, num_uda=2,
                                    num_cda=2)
    assert fdm.num_adapters == 4
    feats, other = torch.randn(2, 7, 12), torch.randn(2, 5, 6)
    partner = torch.randn(2, 2, 3, 6)
    tokens, weights = fdm(feats, other, partner)
    assert tokens.shape == (2, 3, 12)
    adapters = fdm.adapter_outputs(feats, other, partner)
    expected = sum(weights[:, i, None, None] * adapters[:, i]
                   for i in range(4))
    torch.testing.assert_close(tokens, expected)
    torch.testing.assert_close(weights, fdm.router(feats, other))


@pytest.mark.parametrize('num_uda,num_cda', [(1, 0), (0, 1)])
def test_single_adapter_needs_no_router(num_uda, num_cda):
    fdm = FeatureDistillationModule(12, 6, 7, 3, 2, num_uda=num_uda,
                                    num_cda=num_cda)
    assert fdm.router is None
    assert (fdm.cross_attn is None) == (num_cda == 0)
    feats, other = torch.randn(2, 7, 12), torch.randn(2, 5, 6)
    partner = torch.randn(2, num_cda, 3, 6) if num_cda else None
    tokens, weights = fdm(feats, other, partner)
    torch.testing.assert_close(weights, torch.ones(2, 1))
    torch.testing.assert_close(
        tokens, fdm.adapter_outputs(feats, other, partner)[:, 0])


@pytest.mark.parametrize('kwargs,field', [
    (dict(num_uda=0, num_cda=0), 'adapter.num_uda'),
    (dict(num_uda=-1), 'adapter.num_uda'),
])
def test_bad_options_name_the_fields(kwargs, field):
    with pytest.raises(ValueError, match=field):
        FeatureDistillationModule(12, 6, 7, 3, 2, **kwargs)
