"""The config's own test pipeline, fed from memory.

A dataset sample goes through the config's test pipeline: loaders read
the converted frames and wav (``LoadFrames``/``LoadFrameFiles``,
``LoadAudio``), then transforms resize frames, cut audio clips, tokenise
a question and pack the sample (``ResizeFrames``, ``SliceAudioSegments``,
``TokenizeQuestion``, ``PackAVInputs``). The inferencer runs **the same
transform objects** (built by the config's test dataset) minus the ones
that read files or ground truth; their file reading is replaced by
:func:`load_decoded`, which hands over the frames and waveform a decoded
video holds (:class:`~molt.apis.video_input.VideoMedia`) in the form the
loaders produce. So a change to a config's test pipeline changes
inference too, and a video gives the model the same inputs as its
converted copy in a dataset (a test checks this against ``tools/test.py``).
"""
from typing import List, Sequence, Tuple

from mmengine.dataset import BaseDataset, Compose

from molt.datasets.transforms import (LoadAudio, LoadCachedFeatures,
                                      LoadFrameFiles, LoadFrames, LoadMasks,
                                      ResizeMasks, TokenizeQuestion)
from .video_input import VideoMedia

__all__ = ['InferencePipeline', 'load_decoded']

#: Transforms that read media files: replaced by :func:`load_decoded`.
FILE_LOADERS = (LoadFrames, LoadFrameFiles, LoadAudio, LoadCachedFeatures)
#: Transforms that only prepare ground truth, which a user's video lacks.
GROUND_TRUTH = (LoadMasks, ResizeMasks)


def load_decoded(video: VideoMedia, seconds: Sequence[int],
                 sample_rate: int) -> dict:
    """What ``LoadFrames`` + ``LoadAudio`` give for the converted video.

    A second past the video's last frame reads the last frame, as
    ``LoadFrames`` does for short videos (``num_repeated_frames`` counts
    them); the waveform is the whole video's, and ``SliceAudioSegments``
    later cuts each second from it (repeating the last whole second past
    its end).

    Returns:
        ``frames`` (list of ``(h, w, 3)`` uint8), ``num_repeated_frames``,
        ``waveform`` ``(samples,)`` float32, ``sample_rate`` and
        ``segment_seconds``.
    """
    last = video.num_seconds - 1
    frames = [video.frame(min(second, last)) for second in seconds]
    return dict(
        frames=frames,
        num_repeated_frames=sum(second > last for second in seconds),
        waveform=video.waveform(sample_rate),
        sample_rate=sample_rate,
        segment_seconds=list(seconds))


class InferencePipeline:
    """A test dataset's pipeline without its file loaders.

    Args:
        dataset: The config's test dataset (built with ``lazy_init=True``:
            no annotation or media file is read).

    Attributes:
        sample_rate: Rate of the config's ``LoadAudio``.
        question_length: ``TokenizeQuestion.max_length``, or None when the
            pipeline reads no question.
    """

    def __init__(self, dataset: BaseDataset):
        transforms = list(dataset.pipeline.transforms)
        audio = [t for t in transforms if isinstance(t, LoadAudio)]
        frames = [
            t for t in transforms if isinstance(t, (LoadFrames,
                                                    LoadFrameFiles))
        ]
        if not audio or not frames:
            raise ValueError(
                f'The test pipeline of {type(dataset).__name__} has no '
                f'{"LoadAudio" if not audio else "LoadFrames/LoadFrameFiles"}'
                ': the inferencer feeds frames and audio in their place, so '
                'it needs a pipeline that loads both.')
        self.sample_rate = audio[0].sample_rate
        questions = [t for t in transforms if isinstance(t, TokenizeQuestion)]
        self.question_length = (questions[0].max_length
                                if questions else None)
        self.transforms: List = [
            t for t in transforms
            if not isinstance(t, FILE_LOADERS + GROUND_TRUTH)
        ]
        self._compose = Compose(self.transforms)

    def __call__(self, video: VideoMedia, seconds: Sequence[int],
                 **extra) -> dict:
        """Packs one sample of ``video``.

        Args:
            video: The decoded video.
            seconds: The sample's segment seconds.
            **extra: More inputs of the pipeline (e.g. ``vocabulary`` and
                ``question_words`` for ``TokenizeQuestion``).

        Returns:
            ``dict(inputs=..., data_samples=...)`` as the dataset gives.
        """
        results = load_decoded(video, seconds, self.sample_rate)
        results.update(extra)
        return self._compose(results)

    def describe(self) -> Tuple[str, ...]:
        """Names of the transforms that run, in order."""
        return tuple(type(t).__name__ for t in self.transforms)
