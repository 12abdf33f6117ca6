from .config_fill import fill_config
from .layer_selection import (STAGE_NAMES, LayerSelection, normalize_index,
                              resolve_layers)
from .layout import BackboneLayout
from .pairing import pair_blocks_by_stage, pair_by_relative_depth
from .token_norm import (RunningStandardization, TokenBatchNorm,
                         build_token_norm)

__all__ = [
    'STAGE_NAMES', 'LayerSelection', 'normalize_index', 'resolve_layers',
    'BackboneLayout', 'pair_blocks_by_stage', 'pair_by_relative_depth',
    'fill_config', 'RunningStandardization', 'TokenBatchNorm',
    'build_token_norm'
]
