from .ave_metrics import segment_accuracy
from .avqa_metrics import AVQA_GROUPS, AVQA_QUESTION_TYPES, avqa_accuracy
from .avs_metrics import avs_fscore, avs_jaccard

__all__ = [
    'segment_accuracy', 'avs_jaccard', 'avs_fscore', 'avqa_accuracy',
    'AVQA_QUESTION_TYPES', 'AVQA_GROUPS'
]
