from .ave_head import AVEHead
from .base import BaseAVHead
from .cls_head import AVClsHead

__all__ = ['BaseAVHead', 'AVClsHead', 'AVEHead']
