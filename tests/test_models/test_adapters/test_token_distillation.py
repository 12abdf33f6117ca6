import math

import pytest
import torch

from molt.models.adapters import (CrossModalDistillAdapter,
                                  MultiheadCrossAttention, TokenDistillation,
                                  TokenMixingProjection,
                                  UniModalDistillAdapter)


def test_token_distillation_is_eq1_per_head():
    td = TokenDistillation(in_dims=12, embed_dims=8, num_latents=3,
                           num_heads=2)
    feats = torch.randn(2, 5, 12)
    out = td(feats)
    assert out.shape == (2, 3, 8)
    attn = td.attn
    q = attn.q_proj(td.latents)[0]  # (3, 8)
    k, v = attn.k_proj(feats), attn.v_proj(feats)  # (2, 5, 8)
    heads = []
    for h in range(2):
        sl = slice(4 * h, 4 * (h + 1))
        scores = q[:, sl] @ k[..., sl].transpose(1, 2) / math.sqrt(4)
        heads.append(scores.softmax(-1) @ v[..., sl])
    torch.testing.assert_close(out, torch.cat(heads, -1))


def test_heads_must_divide_width():
    with pytest.raises(ValueError, match='num_heads=3'):
        MultiheadCrossAttention(8, 8, 8, num_heads=3)


def test_token_mixing_projection_starts_as_mean_pooling():
    proj = TokenMixingProjection(num_tokens=6, in_dims=4, num_latents=3,
                                 embed_dims=5)
    feats = torch.randn(2, 6, 4)
    expected = proj.channel_proj(feats.mean(1, keepdim=True)).expand(-1, 3, -1)
    torch.testing.assert_close(proj(feats), expected)
    with pytest.raises(ValueError, match='built for 6 tokens'):
        proj(torch.randn(2, 7, 4))


def test_uda_is_distillation_plus_residual():
    uda = UniModalDistillAdapter(in_dims=12, num_tokens=5, embed_dims=8,
                                 num_latents=3, num_heads=2)
    feats = torch.randn(2, 5, 12)
    torch.testing.assert_close(
        uda(feats), uda.distill(feats) + uda.residual(feats))
    # The other modality plays no part in a uni-modal adapter.
    torch.testing.assert_close(uda(feats, torch.randn(2, 9, 7)), uda(feats))


def test_cda_with_unequal_widths_and_token_counts():
    # A 1536-vs-768 situation in miniature: 48-d/36 tokens vs 24-d/64.
    cda = CrossModalDistillAdapter(in_dims=48, other_dims=24, num_tokens=36,
                                   embed_dims=16, num_latents=4, num_heads=2)
    feats, other = torch.randn(2, 36, 48), torch.randn(2, 64, 24)
    out = cda(feats, other)
    assert out.shape == (2, 4, 16)
    expected = cda.cross_attn(cda.distill_self(feats), cda.distill_other(
        other)) + cda.residual(feats)
    torch.testing.assert_close(out, expected)
    # The output depends on the other modality.
    assert not torch.allclose(out, cda(feats, torch.randn(2, 64, 24)))
