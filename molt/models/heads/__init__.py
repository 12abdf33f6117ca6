from .ave_head import AVEHead
from .base import BaseAVHead
from .cls_head import AVClsHead

__all__ = ['BaseAVHead', 'AVClsHead', 'AVEHead']
from .avs_head import AVSHead  # noqa: E402

__all__ += ['AVSHead']
from .avqa_head import AVQAHead  # noqa: E402

__all__ += ['AVQAHead']
from .avsbench_head import AVSBenchHead  # noqa: E402
from .cmbs_head import CMBSHead  # noqa: E402
from .stavqa_head import STAVQAHead  # noqa: E402

__all__ += ['CMBSHead', 'STAVQAHead', 'AVSBenchHead']
