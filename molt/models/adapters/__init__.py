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

# The peers' in-backbone schemes (DG-SCT, AVMoE).
from .avmoe import AVMoEAdapter, AVMoEBlockAdapter  # noqa: E402
from .dgsct import DGSCTAdapter, DGSCTBlockAdapter  # noqa: E402
from .paired_blocks import PairedBlockScheme  # noqa: E402

__all__ += [
    'AVMoEAdapter', 'AVMoEBlockAdapter', 'DGSCTAdapter', 'DGSCTBlockAdapter',
    'PairedBlockScheme'
]
