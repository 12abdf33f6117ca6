"""Per-channel norms of token sets: what each standardises over."""
import pytest
import torch

from molt.models.utils import (RunningStandardization, TokenBatchNorm,
                               build_token_norm)


def scaled_tokens(seed, batch=6):
    """Tokens ``(batch, 5, 3)`` whose channels differ in scale and
    offset by orders of magnitude."""
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, 5, 3, generator=generator) *
            torch.tensor([0.1, 1.0, 100.0]) + torch.tensor([5.0, 0, -3]))


def test_running_standardization_uses_all_training_tokens_seen():
    """Each batch is standardised by the statistics of every training
    token so far (not its own); in eval mode by those of all of them."""
    norm = build_token_norm(dict(type='RunningStandardization'), 3)
    assert isinstance(norm, RunningStandardization)
    assert not list(norm.parameters())
    first, second = scaled_tokens(0), scaled_tokens(1)
    out = norm(first)
    flat = first.reshape(-1, 3).double()
    expected = (flat - flat.mean(0)) / (flat.var(0, unbiased=False) +
                                        1e-5).sqrt()
    torch.testing.assert_close(out.reshape(-1, 3).double(), expected,
                               rtol=1e-4, atol=1e-4)
    out = norm(second)
    both = torch.cat([first, second]).reshape(-1, 3).double()
    mean, std = both.mean(0), (both.var(0, unbiased=False) + 1e-5).sqrt()
    torch.testing.assert_close(out.reshape(-1, 3).double(),
                               (second.reshape(-1, 3).double() - mean) / std,
                               rtol=1e-4, atol=1e-4)
    # Not the batch's own statistics (what a BatchNorm would use).
    assert not torch.allclose(out.reshape(-1, 3).mean(0), torch.zeros(3),
                              atol=1e-3)
    norm.eval()
    torch.testing.assert_close(norm(first).reshape(-1, 3).double(),
                               (first.reshape(-1, 3).double() - mean) / std,
                               rtol=1e-4, atol=1e-4)
    assert norm.count == 60  # eval mode adds nothing


def test_running_standardization_state_travels_with_the_checkpoint():
    norm = RunningStandardization(3)
    norm(scaled_tokens(0))
    restored = RunningStandardization(3)
    restored.load_state_dict(norm.state_dict())
    norm.eval()
    restored.eval()
    torch.testing.assert_close(restored(scaled_tokens(2)),
                               norm(scaled_tokens(2)))


def test_running_standardization_untrained_is_the_identity():
    """Like a fresh BatchNorm's running statistics: an untrained model in
    eval mode (the analysis tools' random baseline) runs unchanged."""
    tokens = scaled_tokens(0)
    assert RunningStandardization(3).eval()(tokens) is tokens


def test_token_batch_norm_reads_channels_last():
    norm = build_token_norm(dict(type='BN1d', affine=False), 3)
    assert isinstance(norm, TokenBatchNorm)
    out = norm(scaled_tokens(0)).reshape(-1, 3)
    torch.testing.assert_close(out.mean(0), torch.zeros(3), atol=1e-5,
                               rtol=0)
    torch.testing.assert_close(out.var(0, unbiased=False), torch.ones(3),
                               atol=1e-2, rtol=0)


@pytest.mark.parametrize('cfg, error', [
    (dict(type='BN'), 'BatchNorm2d.*RunningStandardization'),
    (dict(type='GN', num_groups=1), 'GroupNorm'),
    (dict(type='RunningStandardization', momentum=0.1), 'momentum'),
])
def test_norms_that_do_not_fit_tokens_are_refused(cfg, error):
    with pytest.raises(ValueError, match=f'model.feature_norm.*{error}'):
        build_token_norm(cfg, 3, 'model.feature_norm')
