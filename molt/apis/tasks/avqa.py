"""AVQA inference: a free-text question answered about a video."""
from typing import List, Optional

from molt.datasets import MusicAVQADataset
from molt.visualization.answer_strip import answer_strip
from ..errors import VideoInputError
from ..question import read_question
from ..video_input import VideoMedia
from .base import (InferenceTask, Pictures, Prediction, SampleSpec, VideoPlan,
                   topk_entries)

__all__ = ['AVQATask']


class AVQATask(InferenceTask):
    """Question answering (MUSIC-AVQA configs).

    A video is one sample with the dataset's segment seconds (0, 6, ...,
    54 for MUSIC-AVQA's 60 s videos), as in ``tools/test.py``: a shorter
    video repeats its last second there (the dataset's policy), a longer
    one is read up to its last sampled second only; the result says so.
    The question is read with the checkpoint's training vocabulary
    (:func:`~molt.apis.question.read_question`); words outside it are
    reported, and a question with no known word fails for that video.

    The result gives ``answer`` (the head's ``pred_answer``), its
    ``probability`` and the ``topk`` of ``pred_score`` (the softmax over
    the answer vocabulary), the question's ``words`` and
    ``unknown_words``, and the sampled ``seconds``.
    """

    name = 'avqa'
    dataset_type = MusicAVQADataset
    needs_question = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.vocabulary = self.dataset.vocabulary
        if self.vocabulary is None:
            raise ValueError(
                'The checkpoint holds no AVQA vocabulary (meta["dataset_meta"]'
                '["vocabulary"], written by tools/train.py), so its answer '
                'and word ids cannot be read: use a checkpoint molt trained.')
        if self.pipeline.question_length is None:
            raise ValueError('The test pipeline has no TokenizeQuestion, so '
                             'the model would get no question.')
        self.seconds = list(self.dataset.segment_seconds)

    @property
    def max_seconds(self) -> Optional[int]:
        return max(self.seconds) + 1

    def plan(self, video: VideoMedia, question: Optional[str]) -> VideoPlan:
        if question is None:
            raise VideoInputError('AVQA needs a question (--question TEXT).')
        reading = read_question(question, self.vocabulary,
                                self.pipeline.question_length)
        sample = SampleSpec(
            list(self.seconds),
            dict(
                vocabulary=self.vocabulary,
                question_words=reading.words,
                question_text=question))
        return VideoPlan([sample], dict(question=reading))

    def _coverage_note(self, video: VideoMedia) -> List[str]:
        last = video.num_seconds - 1
        repeated = [s for s in self.seconds if s > last]
        if repeated:
            return [
                f'The video has {video.num_seconds} s; the model reads '
                f'seconds {self.seconds}, so seconds {repeated} showed and '
                f'played second {last} again (the dataset\'s policy for '
                'short videos).'
            ]
        if video.num_seconds >= self.max_seconds:
            return [
                f'The model reads seconds {self.seconds} (the dataset\'s '
                f'sampling); the video was read up to second {last} only.'
            ]
        return []

    def build_result(self, video: VideoMedia, plan: VideoPlan,
                     predictions: List[Prediction]) -> dict:
        scores = self.stack(predictions, 'pred_score')[0]
        answer = int(predictions[0].sample.pred_answer)
        reading = plan.context['question']
        answers = self.vocabulary.answers
        result = self.base_result(video)
        result['notes'] += reading.notes + self._coverage_note(video)
        result.update(
            question=reading.text,
            words=reading.words,
            unknown_words=reading.unknown_words,
            answer=answers[answer],
            probability=float(scores[answer]),
            topk=topk_entries(scores, answers, self.topk, key='answer_id'),
            seconds=list(self.seconds))
        return result

    def headline(self, result: dict) -> str:
        """``'"How many ...?" -> two (87%); top 3: two 87%, ...'``."""
        ranked = ', '.join(f"{entry['name']} {entry['probability']:.0%}"
                           for entry in result['topk'])
        return (f'"{result["question"]}" -> {result["answer"]} '
                f'({result["probability"]:.0%}); top {len(result["topk"])}: '
                f'{ranked}')

    def draw(self, result: dict, video: VideoMedia) -> Pictures:
        """``frames.png``
        (:func:`~molt.visualization.answer_strip.answer_strip`)."""
        last = video.num_seconds - 1
        frames = [video.frame(min(s, last)) for s in result['seconds']]
        return {'frames.png': answer_strip(result, frames)}
