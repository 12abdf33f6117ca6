from .ave_metrics import segment_accuracy
from .avs_metrics import avs_fscore, avs_jaccard

__all__ = ['segment_accuracy', 'avs_jaccard', 'avs_fscore']
