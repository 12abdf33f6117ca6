"""Tasks whose samples are runs of consecutive seconds (AVE, AVSBench)."""
from typing import List, Optional

from ..video_input import VideoMedia
from ..windows import plan_windows, window_seconds
from .base import InferenceTask, SampleSpec, VideoPlan

__all__ = ['WindowedTask']


class WindowedTask(InferenceTask):
    """Reads a video in windows of :attr:`length` seconds, one sample each
    (see :mod:`molt.apis.windows`: long videos in consecutive windows,
    short ones padded with their last second as the datasets do).

    Subclasses set :attr:`length` from their dataset and call
    :meth:`check_overlap` once it is known.
    """

    #: Seconds per sample.
    length = 0

    def check_overlap(self) -> None:
        """Refuses a window overlap the length does not allow."""
        plan_windows(self.length, self.length, self.window_overlap)

    def plan(self, video: VideoMedia, question: Optional[str]) -> VideoPlan:
        starts = plan_windows(video.num_seconds, self.length,
                              self.window_overlap)
        return VideoPlan(
            [SampleSpec(window_seconds(s, self.length)) for s in starts],
            dict(starts=starts))

    def window_notes(self, num_seconds: int, starts: List[int]) -> List[str]:
        """How the windows cover a video, for its result's notes."""
        if num_seconds < self.length:
            return [
                f'The video has {num_seconds} s, fewer than the '
                f'{self.length} s one {self.dataset_type.__name__} sample '
                f'reads: as the dataset does, seconds {num_seconds}-'
                f'{self.length - 1} repeated second {num_seconds - 1} (frame '
                f'and audio); results cover seconds 0-{num_seconds - 1}.'
            ]
        if len(starts) > 1:
            return [
                f'{len(starts)} windows of {self.length} s starting at '
                f'seconds {starts}; each second is reported from the window '
                'in which it is most central.'
            ]
        return []
