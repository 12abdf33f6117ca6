"""Banked linear maps and cross-attention, shared by adapters and heads."""
import pytest
import torch

from molt.models.layers import (BankedCrossAttention, BankedLinear,
                                MultiheadCrossAttention)


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
    # A single bank (shared weights) maps every input set.
    single = BankedLinear(1, 4, 5)
    torch.testing.assert_close(single(x)[:, 2],
                               x[:, 2] @ single.weight[0] + single.bias[0])


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
