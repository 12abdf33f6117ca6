"""Inference on a user's own videos (README "Use a trained model").

``molt.apis.video_writer`` (run with ``python -m``) turns a converted
sample back into a video file; it is not imported here so that it runs
cleanly as a module.
"""
from .errors import VideoInputError
from .inferencer import AVInferencer, VideoOutcome
from .media_reader import VideoMedia, list_videos, read_video
from .model_loading import init_model
from .outputs import write_outputs
from .question import read_question
from .summary import InferenceSummary

__all__ = [
    'AVInferencer', 'VideoOutcome', 'VideoInputError', 'VideoMedia',
    'list_videos', 'read_video', 'init_model', 'write_outputs',
    'read_question', 'InferenceSummary'
]
