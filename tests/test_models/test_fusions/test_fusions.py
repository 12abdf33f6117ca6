import pytest
import torch

from molt.registry import MODELS


def layer_tokens(num_layers=3):
    return [torch.randn(2, 4, 8) for _ in range(num_layers)]


def test_avg_fusion():
    tokens = layer_tokens()
    fused = MODELS.build(dict(type='AvgTokenFusion'))(tokens)
    torch.testing.assert_close(fused, torch.stack(tokens).mean(0))


def test_mlp_fusion_weighs_each_layer():
    """``alpha^(l)``: one weight per layer and sample, from the MLP's score
    of the layer's mean token, softmax across layers."""
    fusion = MODELS.build(dict(type='MLPTokenFusion', embed_dims=8))
    tokens = layer_tokens()
    stacked = torch.stack(tokens, 1)
    alpha = fusion.weights(stacked)
    assert alpha.shape == (2, 3, 1, 1)
    scores = torch.stack([fusion.score(t.mean(1)) for t in tokens], 1)
    torch.testing.assert_close(alpha[:, :, 0], scores.softmax(1))
    expected = sum(alpha[:, i] * t for i, t in enumerate(tokens))
    torch.testing.assert_close(fusion(tokens), expected)


def test_constant_score_mlp_fusion_equals_average():
    fusion = MODELS.build(dict(type='MLPTokenFusion', embed_dims=8))
    assert fusion.score[-1].bias is None  # it would cancel in the softmax
    torch.nn.init.zeros_(fusion.score[-1].weight)
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
