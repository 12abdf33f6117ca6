from .ave_metric import AVEAccuracy

__all__ = ['AVEAccuracy']
from .avs_metric import AVSMetric  # noqa: E402

__all__ += ['AVSMetric']
from .avqa_metric import AVQAAccuracy

__all__ += ['AVQAAccuracy']
