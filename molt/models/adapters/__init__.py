from .attention import (BankedCrossAttention, BankedLinear,
                        MultiheadCrossAttention)
from .fdm import FeatureDistillationModule
from .lavish import LAVisHAdapter, LAVisHBlockAdapter
from .molt_adapter import MoLTAdapter
from .router import Router
from .token_distillation import TokenDistillation, TokenMixingProjection

__all__ = [
    'BankedCrossAttention', 'BankedLinear', 'MultiheadCrossAttention',
    'FeatureDistillationModule', 'LAVisHAdapter', 'LAVisHBlockAdapter',
    'MoLTAdapter', 'Router', 'TokenDistillation', 'TokenMixingProjection'
]
