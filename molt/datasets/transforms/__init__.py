from .audio import SliceAudioSegments
from .cached_features import LoadCachedFeatures
from .formatting import PackAVInputs
from .frame_files import LoadFrameFiles
from .loading import LoadAudio, LoadFrames
from .masks import LoadMasks, ResizeMasks
from .processing import ResizeFrames
from .question import TokenizeQuestion

__all__ = [
    'SliceAudioSegments', 'LoadCachedFeatures', 'PackAVInputs',
    'LoadFrameFiles', 'LoadAudio', 'LoadFrames', 'LoadMasks', 'ResizeMasks',
    'ResizeFrames', 'TokenizeQuestion'
]
