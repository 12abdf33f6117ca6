from .ave_metric import AVEAccuracy
from .avqa_metric import AVQAAccuracy
from .avs_metric import AVSMetric

__all__ = ['AVEAccuracy', 'AVSMetric', 'AVQAAccuracy']
