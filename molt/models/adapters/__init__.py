from .avmoe import AVMoEAdapter, AVMoEBlockAdapter
from .base import BaseAdapterScheme
from .dgsct import DGSCTAdapter, DGSCTBlockAdapter
from .fdm import FeatureDistillationModule
from .frozen_readout import FrozenReadout
from .lavish import LAVisHAdapter, LAVisHBlockAdapter
from .molt_adapter import MoLTAdapter
from .paired_blocks import PairedBlockScheme
from .router import Router
from .token_distillation import TokenDistillation, TokenMixingProjection

__all__ = [
    'BaseAdapterScheme', 'PairedBlockScheme', 'MoLTAdapter', 'LAVisHAdapter',
    'DGSCTAdapter', 'AVMoEAdapter', 'LAVisHBlockAdapter', 'DGSCTBlockAdapter',
    'AVMoEBlockAdapter', 'FrozenReadout', 'FeatureDistillationModule',
    'Router',
    'TokenDistillation', 'TokenMixingProjection'
]
