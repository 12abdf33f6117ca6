import pytest
import torch

from molt.models.adapters import FeatureDistillationModule, Router


def test_router_weights_sum_to_one():
    router = Router(in_dims=12, other_dims=6, num_experts=4, hidden_dims=8)
    weights = router(torch.randn(5, 7, 12), torch.randn(5, 3, 6))
    assert weights.shape == (5, 4)
    torch.testing.assert_close(weights.sum(-1), torch.ones(5))
    assert (weights > 0).all()


def test_fdm_is_the_routed_sum_of_its_adapters():
    fdm = FeatureDistillationModule(in_dims=12, other_dims=6, num_tokens=7,
                                    embed_dims=8, num_latents=3, num_heads=2,
                                    num_uda=2, num_cda=2)
    assert fdm.num_adapters == 4
    feats, other = torch.randn(2, 7, 12), torch.randn(2, 5, 6)
    tokens, weights = fdm(feats, other)
    assert tokens.shape == (2, 3, 8)
    adapters = torch.cat([fdm.udas(feats), fdm.cdas(feats, other)], 1)
    expected = sum(weights[:, i, None, None] * adapters[:, i]
                   for i in range(4))
    torch.testing.assert_close(tokens, expected)
    torch.testing.assert_close(weights, fdm.router(feats, other))


def test_single_adapter_needs_no_router():
    fdm = FeatureDistillationModule(12, 6, 7, 8, 3, 2, num_uda=1, num_cda=0)
    assert fdm.router is None
    feats = torch.randn(2, 7, 12)
    tokens, weights = fdm(feats, torch.randn(2, 5, 6))
    torch.testing.assert_close(weights, torch.ones(2, 1))
    torch.testing.assert_close(tokens, fdm.udas(feats)[:, 0])
    assert fdm.cdas is None


@pytest.mark.parametrize('num_uda,num_cda', [(0, 0), (-1, 2)])
def test_bad_adapter_counts_name_the_fields(num_uda, num_cda):
    with pytest.raises(ValueError, match='adapter.num_uda'):
        FeatureDistillationModule(12, 6, 7, 8, 3, 2, num_uda, num_cda)
