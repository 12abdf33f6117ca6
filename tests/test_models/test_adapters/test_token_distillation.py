import math

import pytest
import torch

from molt.models.adapters import (BankedCrossAttention, BankedLinear,
                                  MultiheadCrossAttention, TokenDistillation,
                                  TokenMixingProjection)


def test_token_distillation_is_eq1_per_adapter_and_head():
    td = TokenDistillation(in_dims=12, embed_dims=8, num_latents=3,
                           num_heads=2, num_adapters=2)
    feats = torch.randn(2, 5, 12)
    out = td(feats)
    assert out.shape == (2, 2, 3, 8)
    attn = td.attn
    for e in range(2):
        # Bank e with its own z, W_Q, W_K, W_V (biases included).
        q = td.latents[e] @ attn.q_proj.weight[e] + attn.q_proj.bias[e]
        # kv_proj holds W_K and W_V side by side.
        kv = feats @ attn.kv_proj.weight[e] + attn.kv_proj.bias[e]
        k, v = kv[..., :8], kv[..., 8:]
        heads = []
        for h in range(2):
            sl = slice(4 * h, 4 * (h + 1))
            scores = q[:, sl] @ k[..., sl].transpose(1, 2) / math.sqrt(4)
            heads.append(scores.softmax(-1) @ v[..., sl])
        torch.testing.assert_close(out[:, e], torch.cat(heads, -1))


def test_banks_are_independent_adapters():
    bank = BankedLinear(3, 4, 5)
    x = torch.randn(2, 3, 6, 4)
    for e in range(3):
        expected = x[:, e] @ bank.weight[e] + bank.bias[e]
        torch.testing.assert_close(bank(x)[:, e], expected)
    # A shared input (bank axis of 1) reaches every bank.
    shared = torch.randn(2, 1, 6, 4)
    torch.testing.assert_close(bank(shared)[:, 1],
                               shared[:, 0] @ bank.weight[1] + bank.bias[1])


def test_single_cross_attention_is_a_bank_of_one():
    single = MultiheadCrossAttention(6, 10, 8, num_heads=2)
    query, kv = torch.randn(3, 4, 6), torch.randn(3, 7, 10)
    banked = BankedCrossAttention(1, 6, 10, 8, 2)
    banked.load_state_dict(single.state_dict())
    torch.testing.assert_close(single(query, kv),
                               banked(query[:, None], kv[:, None])[:, 0])
    assert single(query, kv).shape == (3, 4, 8)


def test_heads_must_divide_width():
    with pytest.raises(ValueError, match='num_heads=3'):
        MultiheadCrossAttention(8, 8, 8, num_heads=3)


def test_token_mixing_projection_starts_as_mean_pooling():
    proj = TokenMixingProjection(num_tokens=6, in_dims=4, num_latents=3,
                                 embed_dims=5, num_adapters=2)
    feats = torch.randn(2, 6, 4)
    projected = proj.channel_proj(feats.mean(1))  # (2, 2 * 5)
    expected = projected.view(2, 2, 1, 5).expand(-1, -1, 3, -1)
    torch.testing.assert_close(proj(feats), expected)
    with pytest.raises(ValueError, match='built for 6 tokens'):
        proj(torch.randn(2, 7, 4))


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
