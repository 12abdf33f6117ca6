from .audio import SliceAudioSegments
from .base import CACHED_FEATURES, MediaTransform
from .cached_features import LoadCachedFeatures
from .formatting import PackAVInputs
from .loading import LoadAudio, LoadFrames
from .processing import ResizeFrames

__all__ = [
    'SliceAudioSegments', 'PackAVInputs', 'LoadAudio', 'LoadFrames',
    'ResizeFrames', 'MediaTransform', 'CACHED_FEATURES', 'LoadCachedFeatures'
]
from .frame_files import LoadFrameFiles  # noqa: E402
from .masks import LoadMasks, ResizeMasks  # noqa: E402

__all__ += ['LoadFrameFiles', 'LoadMasks', 'ResizeMasks']
from .question import TokenizeQuestion  # noqa: E402

__all__ += ['TokenizeQuestion']
