from .ave import AVE_CLASSES, AVEDataset
from .transforms import *  # noqa: F401,F403
from .utils import AnnotationError

__all__ = ['AVE_CLASSES', 'AVEDataset', 'AnnotationError']
