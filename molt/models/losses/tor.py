"""Token orthogonality regularisation (TOR, paper Eq. 8)."""
from typing import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from molt.registry import MODELS

__all__ = ['TokenOrthogonalityLoss']


@MODELS.register_module()
class TokenOrthogonalityLoss(nn.Module):
    """``L_TOR = ||C - I||_F^2`` with ``C`` the cosine-similarity matrix of
    all layer-wise tokens of one modality (``L * T`` tokens), averaged over
    the batch and multiplied by ``loss_weight``.

    Args:
        loss_weight: Weight of the term in the total loss.
    """

    def __init__(self, loss_weight: float = 0.1):
        super().__init__()
        self.loss_weight = loss_weight

    @staticmethod
    def cosine_matrix(tokens: Sequence[Tensor]) -> Tensor:
        """``C``: the cosine similarities of all layer-wise tokens.

        Args:
            tokens: Layer-wise tokens ``L x (B, T, C)`` of one modality.

        Returns:
            ``(B, L*T, L*T)`` in float32; token ``t`` of layer ``l`` is row
            ``l*T + t``.
        """
        stacked = torch.cat(list(tokens), dim=1).float()  # (B, L*T, C)
        unit = F.normalize(stacked, dim=-1)
        return unit @ unit.transpose(1, 2)

    def forward(self, tokens: Sequence[Tensor]) -> Tensor:
        """Args:
            tokens: Layer-wise tokens ``L x (B, T, C)`` of one modality.

        Returns:
            The weighted loss (a scalar).
        """
        cosine = self.cosine_matrix(tokens)
        identity = torch.eye(cosine.shape[-1], device=cosine.device)
        return self.loss_weight * (cosine - identity).square().sum(
            (1, 2)).mean()
