from .ave import AVE_CLASSES, AVEDataset
from .transforms import *  # noqa: F401,F403
from .utils import AnnotationError

__all__ = ['AVE_CLASSES', 'AVEDataset', 'AnnotationError']
from .avsbench import AVSBenchDataset  # noqa: E402

__all__ += ['AVSBenchDataset']
from .music_avqa import MusicAVQADataset  # noqa: E402
from .vocabulary import QAVocabulary  # noqa: E402

__all__ += ['MusicAVQADataset', 'QAVocabulary']
