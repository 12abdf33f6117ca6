from .avg import AvgTokenFusion
from .gated import GatedTokenFusion
from .mlp import MLPTokenFusion

__all__ = ['AvgTokenFusion', 'GatedTokenFusion', 'MLPTokenFusion']
