from .epoch_timer_hook import EpochTimerHook
from .feature_cache_hook import FeatureCacheHook

__all__ = ['EpochTimerHook', 'FeatureCacheHook']
from .visualization_hook import AVVisualizationHook  # noqa: E402

__all__ += ['AVVisualizationHook']
from .vocabulary_hook import VocabularyHook, VocabularyMismatchError  # noqa: E402,E501

__all__ += ['VocabularyHook', 'VocabularyMismatchError']
from .safe_checkpoint_hook import SafeCheckpointHook  # noqa: E402

__all__ += ['SafeCheckpointHook']
