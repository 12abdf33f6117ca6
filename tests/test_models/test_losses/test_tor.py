import torch

from molt.models.losses import TokenOrthogonalityLoss


def test_orthonormal_tokens_cost_nothing():
    loss = TokenOrthogonalityLoss(loss_weight=1.0)
    basis = torch.eye(6)
    # two layers of three tokens each, all mutually orthogonal
    tokens = [basis[:3].unsqueeze(0), (2 * basis[3:]).unsqueeze(0)]
    torch.testing.assert_close(loss(tokens), torch.tensor(0.))


def test_repeated_tokens_are_penalised_by_the_formula():
    loss = TokenOrthogonalityLoss(loss_weight=0.5)
    token = torch.randn(1, 1, 8)
    tokens = [token.expand(1, 2, 8), token.expand(1, 1, 8)]
    # three identical tokens: C is all ones, ||C - I||^2 = 9 - 3 = 6
    torch.testing.assert_close(loss(tokens), torch.tensor(0.5 * 6))


def test_hand_computed_cosines():
    loss = TokenOrthogonalityLoss(loss_weight=1.0)
    a = torch.tensor([[1., 0.]])
    b = torch.tensor([[1., 1.]])
    value = loss([a.unsqueeze(0), b.unsqueeze(0)])
    # off-diagonal cosine 1/sqrt(2), twice, squared
    torch.testing.assert_close(value, torch.tensor(1.0))
