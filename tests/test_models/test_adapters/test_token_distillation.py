import math

import pytest
import torch

from molt.models.adapters import TokenDistillation, TokenMixingProjection
from molt.models.adapters.token_distillation import (adaptive_pooling_matrix,
                                                   distillation_attention)


def eq2(latents, feats, attn, bank, num_heads):
    """``softmax(z W_Q (f W_K)^T / sqrt(d_H)) f W_V`` head by head, with
    weight set ``bank`` of ``attn`` (biases included)."""
    q = latents @ attn.q_proj.weight[bank] + attn.q_proj.bias[bank]
    # kv_proj holds W_K and W_V side by side.
    kv = feats @ attn.kv_proj.weight[bank] + attn.kv_proj.bias[bank]
    k, v = kv.chunk(2, dim=-1)
    d_h = q.shape[-1] // num_heads
    heads = []
    for h in range(num_heads):
        sl = slice(d_h * h, d_h * (h + 1))
        scores = q[:, sl] @ k[..., sl].transpose(1, 2) / math.sqrt(d_h)
        heads.append(scores.softmax(-1) @ v[..., sl])
    return torch.cat(heads, -1)


def test_token_distillation_is_eq2_per_adapter_and_head():
    td = TokenDistillation(in_dims=12, embed_dims=8, num_latents=3,
                           num_heads=2, num_adapters=2)
    feats = torch.randn(2, 5, 12)
    out = td(feats)
    assert out.shape == (2, 2, 3, 8)
    for e in range(2):  # bank e: its own z, W_Q, W_K, W_V
        torch.testing.assert_close(
            out[:, e], eq2(td.latents[e], feats, td.attn, e, 2))


def test_full_width_token_distillation():
    """``z in R^{N x D_m}``, ``W_{Q,K,V} in R^{D_m x H d_H}``, ``H d_H =
    D_m``: 4 heads of 6 on a 24-wide layer, no output projection."""
    td = TokenDistillation(in_dims=24, embed_dims=24, num_latents=3,
                           num_heads=4)
    assert td.latents.shape == (1, 3, 24)
    assert td.attn.q_proj.weight.shape == (1, 24, 24)
    assert td.attn.kv_proj.weight.shape == (1, 24, 2 * 24)
    assert td.attn.out_proj is None
    feats = torch.randn(2, 5, 24)
    torch.testing.assert_close(
        td(feats)[:, 0], eq2(td.latents[0], feats, td.attn, 0, 4))


def test_shared_weights_serve_every_adapter():
    """One weight set (``W_m``) for a bank of adapters: adapter e differs
    only by its latent tokens."""
    shared = distillation_attention(1, 12, 8, num_heads=2)
    td = TokenDistillation(12, 8, num_latents=3, num_heads=2, num_adapters=3,
                           attn=shared)
    assert td.attn is shared
    feats = torch.randn(2, 5, 12)
    out = td(feats)
    assert out.shape == (2, 3, 3, 8)
    for e in range(3):
        torch.testing.assert_close(
            out[:, e], eq2(td.latents[e], feats, shared, 0, 2))


def test_token_mixing_projection_starts_as_adaptive_pooling():
    proj = TokenMixingProjection(num_tokens=6, in_dims=4, num_latents=3,
                                 embed_dims=5, num_adapters=2)
    feats = torch.randn(2, 6, 4)
    # Latent i starts as the mean of tokens 2i and 2i + 1.
    pooled = feats.view(2, 3, 2, 4).mean(2)  # (2, 3, 4)
    expected = proj.channel_proj(pooled).view(2, 3, 2, 5).transpose(1, 2)
    torch.testing.assert_close(proj(feats), expected)
    # Distinct starting rows: a layer's latent tokens do not start parallel.
    assert not torch.allclose(expected[:, :, 0], expected[:, :, 1])
    with pytest.raises(ValueError, match='built for 6 tokens'):
        proj(torch.randn(2, 7, 4))


def test_adaptive_pooling_matrix_windows():
    assert torch.equal(adaptive_pooling_matrix(4, 2),
                       torch.tensor([[.5, .5, 0, 0], [0, 0, .5, .5]]))
    # Fewer tokens than latents: tokens repeat, every row sums to 1.
    fewer = adaptive_pooling_matrix(2, 4)
    assert torch.equal(fewer, torch.tensor([[1., 0], [1, 0], [0, 1], [0, 1]]))
    uneven = adaptive_pooling_matrix(5, 3)
    torch.testing.assert_close(uneven.sum(1), torch.ones(3))
    assert torch.equal(uneven > 0, torch.tensor([[1, 1, 0, 0, 0],
                                                 [0, 1, 1, 1, 0],
                                                 [0, 0, 0, 1, 1]]).bool())


def test_full_width_token_mixing_has_no_channel_projection():
    proj = TokenMixingProjection(num_tokens=6, in_dims=4, num_latents=3,
                                 embed_dims=4, num_adapters=2)
    assert proj.channel_proj is None
    torch.nn.init.normal_(proj.token_mix)
    feats = torch.randn(2, 6, 4)
    for e in range(2):
        torch.testing.assert_close(proj(feats)[:, e],
                                   proj.token_mix[e] @ feats)


def test_token_mixing_projection_is_p_f_q():
    proj = TokenMixingProjection(num_tokens=6, in_dims=4, num_latents=3,
                                 embed_dims=5, num_adapters=2)
    torch.nn.init.normal_(proj.token_mix)
    feats = torch.randn(2, 6, 4)
    weight = proj.channel_proj.weight.view(2, 5, 4)
    bias = proj.channel_proj.bias.view(2, 5)
    for e in range(2):
        expected = proj.token_mix[e] @ (feats @ weight[e].T + bias[e])
        torch.testing.assert_close(proj(feats)[:, e], expected)
