from .audio import SliceAudioSegments
from .formatting import PackAVInputs
from .loading import LoadAudio, LoadFrames
from .processing import ResizeFrames

__all__ = [
    'SliceAudioSegments', 'PackAVInputs', 'LoadAudio', 'LoadFrames',
    'ResizeFrames'
]
