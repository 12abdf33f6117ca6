"""Inference on a user's own videos (docs/en/inference.md), and
:func:`init_model`, the one way to build a model with its checkpoint."""
from .errors import VideoInputError
from .inference import init_model
from .inferencer import AVInferencer, VideoOutcome
from .outputs import write_outputs
from .question import read_question
from .summary import InferenceSummary
from .video_input import VideoMedia, list_videos, read_video

__all__ = [
    'AVInferencer', 'VideoOutcome', 'VideoInputError', 'VideoMedia',
    'list_videos', 'read_video', 'init_model', 'write_outputs',
    'read_question', 'InferenceSummary'
]
