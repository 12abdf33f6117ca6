from .audio_frontends import HTSATLogMel, KaldiFbank
from .base import BlockAdapter, FrozenSwinBackbone
from .htsat import HTSAT
from .swin_v2 import SwinV2

__all__ = [
    'BlockAdapter', 'FrozenSwinBackbone', 'HTSAT', 'HTSATLogMel',
    'KaldiFbank', 'SwinV2'
]
