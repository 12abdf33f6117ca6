"""Linear CKA, debiased CKA and cosine: properties and streaming."""
import pytest
import torch

from molt.analysis.similarity import (LayerSimilarity, debiased_linear_cka,
                                      linear_cka, mean_cosine)

MEASURES = dict(cka=linear_cka, cka_debiased=debiased_linear_cka)


def _orthogonal(dim: int) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(dim, dim, dtype=torch.float64))
    return q


@pytest.mark.parametrize('measure', MEASURES.values())
def test_a_layer_with_itself_scores_one(measure):
    x = torch.randn(64, 12) * 3 + 1
    assert measure(x, x) == pytest.approx(1.0, abs=1e-12)


def test_independent_features_score_near_zero():
    x, y = torch.randn(1500, 8), torch.randn(1500, 8)
    assert linear_cka(x, y) < 0.02
    assert abs(debiased_linear_cka(x, y)) < 0.02


def test_debiased_cka_removes_the_small_sample_bias():
    # Few examples relative to the widths: plain CKA of independent
    # features is far from 0, the debiased estimate is not.
    x, y = torch.randn(40, 64), torch.randn(40, 64)
    assert linear_cka(x, y) > 0.5
    assert abs(debiased_linear_cka(x, y)) < 0.1


@pytest.mark.parametrize('name', MEASURES)
def test_invariant_to_rotation_and_isotropic_scaling_of_one_side(name):
    measure = MEASURES[name]
    x = torch.randn(200, 10, dtype=torch.float64)
    y = torch.tanh(x @ torch.randn(10, 6, dtype=torch.float64)) + \
        0.3 * torch.randn(200, 6, dtype=torch.float64)
    reference = measure(x, y)
    assert 0.2 < reference < 0.99  # a non-trivial pair
    assert measure(x, 7.5 * y @ _orthogonal(6)) == pytest.approx(
        reference, abs=1e-10)
    assert measure(0.01 * x @ _orthogonal(10), y) == pytest.approx(
        reference, abs=1e-10)
    # ... but not to stretching one axis (so the checks above can fail).
    stretched = y.clone()
    stretched[:, 0] *= 10
    assert abs(measure(x, stretched) - reference) > 1e-3


def test_mean_cosine():
    x = torch.tensor([[1., 0.], [0., 2.]])
    y = torch.tensor([[1., 1.], [0., -1.]])
    assert mean_cosine(x, y) == pytest.approx((2 ** -0.5 - 1) / 2)
    with pytest.raises(ValueError, match='same shape'):
        mean_cosine(x, torch.randn(2, 3))


def _layers(n: int):
    base = torch.randn(n, 5) + 2
    return [
        base,
        base @ torch.randn(5, 7) + 0.5 * torch.randn(n, 7),
        torch.randn(n, 9),
        torch.relu(base) + 0.1 * torch.randn(n, 5),
    ]


def test_streamed_equals_in_memory():
    layers = _layers(57)
    similarity = LayerSimilarity([x.shape[1] for x in layers])
    for start in (0, 5, 23, 24, 50):  # uneven batches, one of size 1
        stop = {0: 5, 5: 23, 23: 24, 24: 50, 50: 57}[start]
        similarity.update([x[start:stop] for x in layers])
    assert similarity.num_examples == 57
    results = similarity.compute()
    for i, x in enumerate(layers):
        for j, y in enumerate(layers):
            for name, measure in MEASURES.items():
                assert results[name][i, j] == pytest.approx(
                    measure(x, y), abs=1e-9), (name, i, j)
            if x.shape[1] == y.shape[1]:
                assert results['cosine'][i, j] == pytest.approx(
                    mean_cosine(x, y), abs=1e-9)
            else:
                assert results['cosine'][i, j].isnan()
    for matrix in results.values():
        assert torch.equal(matrix.isnan(), matrix.T.isnan())
        assert torch.allclose(matrix.nan_to_num(), matrix.T.nan_to_num())


def test_state_does_not_grow_with_the_number_of_examples():
    layers = _layers(300)
    similarity = LayerSimilarity([x.shape[1] for x in layers])
    sizes = None
    for start in range(0, 300, 30):
        similarity.update([x[start:start + 30] for x in layers])
        state = [v.numel() for v in vars(similarity).values()
                 if isinstance(v, torch.Tensor)]
        assert sizes is None or state == sizes
        sizes = state
    assert sum(sizes) < 30 * 30 * 4  # (sum of widths)^2 dominates: 26^2


def test_update_checks_shapes():
    similarity = LayerSimilarity([4, 6])
    with pytest.raises(ValueError, match='2 layers'):
        similarity.update([torch.randn(3, 4)])
    with pytest.raises(ValueError, match=r'Layer 1: expected \(3, 6\)'):
        similarity.update([torch.randn(3, 4), torch.randn(3, 5)])
    with pytest.raises(ValueError, match='at least 2 examples'):
        similarity.compute()
