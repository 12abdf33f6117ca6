"""Question tokenisation and the answer / question-word vocabularies of
question answering (MUSIC-AVQA).

Both vocabularies come from the training split only and are sorted, so the
same training file always gives the same ids. The question vocabulary starts
with ``<pad>`` (id 0) and ``<unk>`` (id 1); words of other splits that the
training questions never use map to ``<unk>``. (The peers split on spaces,
drop the final '?' and have no unknown word, so other splits could not use
words the training split lacks.)
"""
import re
from typing import Dict, Iterable, List, Mapping, Optional, Sequence

import numpy as np

__all__ = ['PAD', 'UNK', 'PAD_ID', 'UNK_ID', 'tokenize', 'QAVocabulary']

PAD, UNK = '<pad>', '<unk>'
PAD_ID, UNK_ID = 0, 1

# A word (letters, digits, '_' as in 'acoustic_guitar') or one punctuation
# mark.
_TOKEN = re.compile(r'\w+|[^\w\s]')


def tokenize(text: str) -> List[str]:
    """Lower-cases ``text`` and splits it into words and punctuation marks.

    Example: ``'Is the cello on the left?'`` ->
    ``['is', 'the', 'cello', 'on', 'the', 'left', '?']``.
    """
    return _TOKEN.findall(text.lower())


class QAVocabulary:
    """The answers and question words of a training split.

    Args:
        answers: Answer strings; the index of an answer is its class id.
        words: Question words, ``words[0] == '<pad>'`` and
            ``words[1] == '<unk>'``.
    """

    def __init__(self, answers: Sequence[str], words: Sequence[str]):
        if list(words[:2]) != [PAD, UNK]:
            raise ValueError(f'The question vocabulary must start with '
                             f'{PAD!r}, {UNK!r}; got {list(words[:2])}.')
        self.answers = list(answers)
        self.words = list(words)
        self._answer_ids = {a: i for i, a in enumerate(self.answers)}
        self._word_ids = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, questions: Iterable[str],
              answers: Iterable[str]) -> 'QAVocabulary':
        """Sorted vocabularies of the given training questions and answers."""
        words = sorted({w for q in questions for w in tokenize(q)})
        return cls(sorted(set(answers)), [PAD, UNK] + words)

    @classmethod
    def from_dict(cls, data: Mapping, source: str) -> 'QAVocabulary':
        """Rebuilds a vocabulary saved by :meth:`to_dict`.

        Args:
            data: ``dict(answers=[...], words=[...])``.
            source: Where ``data`` comes from, for error messages.
        """
        if not isinstance(data, Mapping) or not {'answers', 'words'} <= set(
                data):
            raise ValueError(
                f'{source}: a vocabulary must be a dict with "answers" and '
                f'"words" lists, got {type(data).__name__}.')
        try:
            return cls(data['answers'], data['words'])
        except ValueError as error:
            raise ValueError(f'{source}: {error}') from None

    def to_dict(self) -> Dict[str, List[str]]:
        """``dict(answers=[...], words=[...])``, JSON-serialisable."""
        return dict(answers=list(self.answers), words=list(self.words))

    @property
    def num_answers(self) -> int:
        return len(self.answers)

    @property
    def vocab_size(self) -> int:
        """Number of question words, ``<pad>`` and ``<unk>`` included."""
        return len(self.words)

    def answer_id(self, answer: str) -> Optional[int]:
        """The class id of ``answer``, or None when it is not in the
        vocabulary."""
        return self._answer_ids.get(answer)

    def encode(self, question: str, max_length: int) -> np.ndarray:
        """Word ids of ``question``, cut or padded to ``max_length``.

        Returns:
            ``(max_length,)`` int64 ids; unknown words are ``UNK_ID``,
            padding is ``PAD_ID`` at the end.
        """
        ids = [self._word_ids.get(w, UNK_ID) for w in tokenize(question)]
        ids = ids[:max_length] + [PAD_ID] * (max_length - len(ids))
        return np.array(ids, dtype=np.int64)

    def __eq__(self, other) -> bool:
        return (isinstance(other, QAVocabulary)
                and self.to_dict() == other.to_dict())

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({self.num_answers} answers, '
                f'{self.vocab_size} words)')
