from .ave_head import AVEHead
from .avqa_head import AVQAHead
from .avs_head import AVSHead
from .avsbench_head import AVSBenchHead
from .base import BaseAVEHead, BaseAVHead, BaseAVQAHead
from .cmbs_head import CMBSHead
from .stavqa_head import STAVQAHead

__all__ = [
    'BaseAVHead', 'BaseAVEHead', 'BaseAVQAHead', 'AVEHead', 'CMBSHead',
    'AVQAHead', 'STAVQAHead', 'AVSHead', 'AVSBenchHead'
]
