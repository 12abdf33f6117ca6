import pytest
import torch

from molt.registry import MODELS


def layer_tokens(num_layers=3):
    return [torch.randn(2, 4, 8) for _ in range(num_layers)]


def test_avg_fusion():
    tokens = layer_tokens()
    fused = MODELS.build(dict(type='AvgTokenFusion'))(tokens)
    torch.testing.assert_close(fused, torch.stack(tokens).mean(0))


def test_mlp_fusion_weights_sum_to_one_across_layers():
    fusion = MODELS.build(dict(type='MLPTokenFusion', embed_dims=8))
    tokens = layer_tokens()
    alpha = fusion.weights(torch.stack(tokens, 1))
    assert alpha.shape == (2, 3, 4, 1)
    torch.testing.assert_close(alpha.sum(1), torch.ones(2, 4, 1))
    expected = sum(alpha[:, i] * t for i, t in enumerate(tokens))
    torch.testing.assert_close(fusion(tokens), expected)


def test_constant_score_mlp_fusion_equals_average():
    fusion = MODELS.build(dict(type='MLPTokenFusion', embed_dims=8))
    last = fusion.score[-1]
    torch.nn.init.zeros_(last.weight)
    torch.nn.init.constant_(last.bias, 3.0)
    tokens = layer_tokens()
    avg = MODELS.build(dict(type='AvgTokenFusion'))
    torch.testing.assert_close(fusion(tokens), avg(tokens))


def test_gated_fusion_starts_as_average_and_learns():
    fusion = MODELS.build(
        dict(type='GatedTokenFusion', embed_dims=8, num_layers=3))
    tokens = layer_tokens()
    torch.testing.assert_close(fusion(tokens), torch.stack(tokens).mean(0))
    fusion(tokens).sum().backward()
    assert fusion.gates.grad is not None
    with torch.no_grad():
        fusion.gates.copy_(torch.tensor([0., 0., 30.]))
    torch.testing.assert_close(fusion(tokens), tokens[2])
    with pytest.raises(ValueError, match='3 gates but got 2'):
        fusion(tokens[:2])
