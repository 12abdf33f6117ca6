"""Router over a layer's adapters (paper Eq. 4)."""
import torch
from torch import Tensor, nn

__all__ = ['Router']


class Router(nn.Module):
    """``w = softmax(MLP([pool(f_m); pool(f_o)]))`` over the adapters.

    Args:
        in_dims: Width of this modality's layer tokens.
        other_dims: Width of the other modality's paired layer tokens.
        num_experts: Number of adapters to weigh (N_UDA + N_CDA).
        hidden_dims: Hidden width of the MLP.
    """

    def __init__(self, in_dims: int, other_dims: int, num_experts: int,
                 hidden_dims: int):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(in_dims + other_dims, hidden_dims), nn.GELU(),
            nn.Linear(hidden_dims, num_experts))

    def forward(self, feats: Tensor, other: Tensor) -> Tensor:
        """Mean-pooled ``(B, N_m, C_m)`` and ``(B, N_o, C_o)`` ->
        weights ``(B, num_experts)`` that sum to 1."""
        pooled = torch.cat([feats.mean(1), other.mean(1)], dim=-1)
        return self.mlp(pooled).softmax(dim=-1)
