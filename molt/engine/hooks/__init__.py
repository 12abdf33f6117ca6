from .epoch_timer_hook import EpochTimerHook
from .feature_cache_hook import FeatureCacheHook
from .safe_checkpoint_hook import SafeCheckpointHook
from .visualization_hook import AVVisualizationHook
from .vocabulary_hook import VocabularyHook, VocabularyMismatchError

__all__ = [
    'EpochTimerHook', 'FeatureCacheHook', 'AVVisualizationHook',
    'VocabularyHook', 'VocabularyMismatchError', 'SafeCheckpointHook'
]
