from .attention import (BankedCrossAttention, BankedLinear,
                        MultiheadCrossAttention)
from .layer_tokens import check_layer_tokens
from .temporal import TemporalRelationModule, relation_layer

__all__ = [
    'BankedCrossAttention', 'BankedLinear', 'MultiheadCrossAttention',
    'check_layer_tokens', 'TemporalRelationModule', 'relation_layer'
]
