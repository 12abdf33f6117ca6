from .attention import (BankedCrossAttention, BankedLinear,
                        MultiheadCrossAttention)
from .cda import CrossModalDistillAdapter
from .fdm import FeatureDistillationModule
from .lavish import LAVisHAdapter, LAVisHBlockAdapter
from .molt_adapter import MoLTAdapter
from .router import Router
from .token_distillation import TokenDistillation, TokenMixingProjection
from .uda import UniModalDistillAdapter

__all__ = [
    'BankedCrossAttention', 'BankedLinear', 'MultiheadCrossAttention',
    'CrossModalDistillAdapter',
    'FeatureDistillationModule', 'LAVisHAdapter', 'LAVisHBlockAdapter',
    'MoLTAdapter', 'Router', 'TokenDistillation', 'TokenMixingProjection',
    'UniModalDistillAdapter'
]
