"""Turning a question into word ids."""
from mmcv.transforms import BaseTransform

from molt.registry import TRANSFORMS

__all__ = ['TokenizeQuestion']


@TRANSFORMS.register_module()
class TokenizeQuestion(BaseTransform):
    """Tokenises the question (lower-case words and punctuation marks) and
    maps it to the training vocabulary's word ids, cut or padded to
    ``max_length`` (the peers use 14). Unknown words map to ``<unk>``.

    The dataset hands every sample its ``vocabulary``
    (:class:`~molt.datasets.vocabulary.QAVocabulary`), so the ids always
    follow the vocabulary the model was trained with.

    Required keys: ``question_text``, ``vocabulary``.
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
        results['question'] = vocabulary.encode(results['question_text'],
                                                self.max_length)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(max_length={self.max_length})'
