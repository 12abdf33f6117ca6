"""Turning a question into word ids."""
from mmcv.transforms import BaseTransform

from molt.registry import TRANSFORMS
from ..vocabulary import question_words

__all__ = ['TokenizeQuestion']


@TRANSFORMS.register_module()
class TokenizeQuestion(BaseTransform):
    """Maps the question's words to the training vocabulary's ids, cut or
    padded to ``max_length`` (the peers use 14). Unknown words map to
    ``<unk>``.

    The words are the sample's ``question_words`` (the official ST-AVQA
    words, from :class:`MusicAVQADataset`); a sample without them (e.g. a
    question typed by a user) has its ``question_text`` split the same way
    (:func:`~molt.datasets.vocabulary.question_words`, so it should end with
    a question mark). The dataset hands every sample its ``vocabulary``
    (:class:`~molt.datasets.vocabulary.QAVocabulary`), so the ids always
    follow the vocabulary the model was trained with.

    Required keys: ``question_words`` or ``question_text``, ``vocabulary``.
    Added keys: ``question`` ``(max_length,)`` int64 ids (``<pad>`` = 0).

    Args:
        max_length: Number of ids per question.
    """

    def __init__(self, max_length: int = 14):
        if max_length < 1:
            raise ValueError(f'max_length must be positive, got {max_length}')
        self.max_length = max_length

    def transform(self, results: dict) -> dict:
        vocabulary = results.get('vocabulary')
        if vocabulary is None:
            raise KeyError(
                'TokenizeQuestion needs the sample\'s "vocabulary"; use it '
                'in the pipeline of a question-answering dataset such as '
                'MusicAVQADataset.')
        words = results.get('question_words')
        if words is None:
            words = question_words(results['question_text'], [])
        results['question'] = vocabulary.encode(words, self.max_length)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(max_length={self.max_length})'
