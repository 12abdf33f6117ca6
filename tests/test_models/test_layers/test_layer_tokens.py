"""The check every fusion runs on its layer-wise tokens."""
import pytest
import torch

from molt.models.layers import check_layer_tokens


def test_layer_tokens_are_stacked_on_a_layer_axis():
    tokens = [torch.randn(2, 4, 8) for _ in range(3)]
    stacked = check_layer_tokens(tokens, 'MyFusion')
    assert stacked.shape == (2, 3, 4, 8)
    torch.testing.assert_close(stacked[:, 1], tokens[1])
    with pytest.raises(ValueError, match='MyFusion got no layer-wise'):
        check_layer_tokens([], 'MyFusion')
