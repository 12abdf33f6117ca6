"""The error of one video that inference cannot use."""

__all__ = ['VideoInputError']


class VideoInputError(RuntimeError):
    """A video (or the question asked about it) cannot be used.

    The message names the video and says what to do. :class:`AVInferencer`
    records it as that video's failure and goes on with the others; a
    decoding failure (:class:`~molt.datasets.media.MediaDecodeError`) is
    treated the same way.
    """
