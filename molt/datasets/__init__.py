from .ave import AVE_CLASSES, AVEDataset
from .avsbench import AVSBenchDataset
from .music_avqa import MusicAVQADataset
from .transforms import *  # noqa: F401,F403
from .utils import AnnotationError
from .vocabulary import QAVocabulary

__all__ = [
    'AVE_CLASSES', 'AVEDataset', 'AnnotationError', 'AVSBenchDataset',
    'MusicAVQADataset', 'QAVocabulary'
]
