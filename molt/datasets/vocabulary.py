"""Question words and the answer / question-word vocabularies of
MUSIC-AVQA, as the official ST-AVQA code builds them
(``net_grd_avst/dataloader_avst.py`` of GeWu-Lab/MUSIC-AVQA).

Question words (:func:`question_words`): the question with trailing
whitespace stripped is split on single spaces, the last character of the
last word is dropped (the final ``?`` or full-width ``？``), and every word
containing ``<`` is replaced, whole, by the next template value. Words keep
their case.

Vocabularies (:meth:`QAVocabulary.build`), from the training questions
only: answers in order of first appearance, so answer ids are the official
ids (predictions, ``--out`` files and confusion matrices line up with the
official code's); question words in order of first appearance after
``<pad>`` (id 0), so every official word keeps its official id. molt adds
``<unk>`` as the last id, for words of other splits that the training
questions never use (the official code has none: an unseen word stops it).
Lower-casing the words is an option (``lowercase=True``, not the
official reading); a saved vocabulary records which tokenisation it was
built with.
"""
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Union

import numpy as np

__all__ = ['PAD', 'UNK', 'PAD_ID', 'question_words', 'QAVocabulary']

PAD, UNK = '<pad>', '<unk>'
PAD_ID = 0

#: ``tokenizer`` field of a saved vocabulary, by ``lowercase``.
TOKENIZERS = {False: 'st-avqa', True: 'st-avqa-lowercase'}


def question_words(content: str, templ_values: Sequence[str]) -> List[str]:
    """The official ST-AVQA words of a question.

    Example: ``('Is the <Object> on the <LR>？ ', ['cello', 'left'])`` ->
    ``['Is', 'the', 'cello', 'on', 'the', 'left']``.

    Args:
        content: ``question_content`` with ``<...>`` placeholders.
        templ_values: Values for the placeholders, in order.

    Raises:
        ValueError: Fewer values than placeholder words (the official code
            fails there too).
    """
    words = content.rstrip().split(' ')
    words[-1] = words[-1][:-1]
    values = iter(templ_values)
    for index, word in enumerate(words):
        if '<' in word:
            try:
                words[index] = str(next(values))
            except StopIteration:
                raise ValueError(
                    f'{content!r} has more placeholder words than the '
                    f'{len(templ_values)} template value(s) '
                    f'{list(templ_values)}') from None
    return words


class QAVocabulary:
    """The answers and question words of a training split.

    Args:
        answers: Answer strings; the index of an answer is its class id.
        words: Question words, ``words[0] == '<pad>'`` and
            ``words[-1] == '<unk>'``.
        lowercase: Whether question words are lower-cased before lookup.
    """

    def __init__(self,
                 answers: Sequence[str],
                 words: Sequence[str],
                 lowercase: bool = False):
        if len(words) < 2 or words[0] != PAD or words[-1] != UNK:
            raise ValueError(
                f'The question vocabulary must start with {PAD!r} and end '
                f'with {UNK!r}; got {list(words[:1])} ... '
                f'{list(words[-1:])}.')
        self.answers = list(answers)
        self.words = list(words)
        self.lowercase = lowercase
        self._answer_ids = {a: i for i, a in enumerate(self.answers)}
        self._word_ids = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls,
              questions: Iterable[Sequence[str]],
              answers: Iterable[str],
              lowercase: bool = False) -> 'QAVocabulary':
        """Vocabularies of training questions (word lists, see
        :func:`question_words`) and answers, in order of first appearance.
        """
        case = str.lower if lowercase else str
        words = dict.fromkeys(case(w) for q in questions for w in q)
        words.pop(PAD, None)
        words.pop(UNK, None)
        return cls(list(dict.fromkeys(answers)), [PAD, *words, UNK],
                   lowercase)

    @classmethod
    def from_dict(cls, data: Mapping, source: str) -> 'QAVocabulary':
        """Rebuilds a vocabulary saved by :meth:`to_dict`.

        Args:
            data: ``dict(tokenizer=..., answers=[...], words=[...])``.
            source: Where ``data`` comes from, for error messages.

        Raises:
            ValueError: ``data`` is not a saved vocabulary, or one saved
                before molt followed the official tokenisation (no
                ``tokenizer`` field: lower-cased words with ``?`` tokens and
                sorted ids, which a model trained with it needs).
        """
        if not isinstance(data, Mapping) or not {'answers', 'words'} <= set(
                data):
            raise ValueError(
                f'{source}: a vocabulary must be a dict with "answers" and '
                f'"words" lists, got {type(data).__name__}.')
        lowercase = {name: lower for lower, name in TOKENIZERS.items()}.get(
            data.get('tokenizer'))
        if lowercase is None:
            raise ValueError(
                f'{source}: this vocabulary was saved by an older molt '
                '(lower-cased words with "?" tokens, sorted ids; no '
                f'"tokenizer" field, got {data.get("tokenizer")!r}). molt '
                'now reads questions and orders answers like the official '
                'ST-AVQA code, so a model trained with it would get other '
                'word and answer ids: retrain it (expected tokenizer: one '
                f'of {sorted(TOKENIZERS.values())}).')
        try:
            return cls(data['answers'], data['words'], lowercase)
        except ValueError as error:
            raise ValueError(f'{source}: {error}') from None

    def to_dict(self) -> Dict[str, Union[str, List[str]]]:
        """``dict(tokenizer=..., answers=[...], words=[...])``,
        JSON-serialisable."""
        return dict(
            tokenizer=TOKENIZERS[self.lowercase],
            answers=list(self.answers),
            words=list(self.words))

    @property
    def num_answers(self) -> int:
        return len(self.answers)

    @property
    def vocab_size(self) -> int:
        """Number of question words, ``<pad>`` and ``<unk>`` included."""
        return len(self.words)

    @property
    def unk_id(self) -> int:
        """Id of ``<unk>`` (the last one)."""
        return len(self.words) - 1

    def answer_id(self, answer: str) -> Optional[int]:
        """The class id of ``answer``, or None when it is not in the
        vocabulary."""
        return self._answer_ids.get(answer)

    def encode(self, words: Sequence[str], max_length: int) -> np.ndarray:
        """Ids of question words, cut or padded to ``max_length`` (the
        official code pads to 14 and never cuts; the release has no longer
        question).

        Returns:
            ``(max_length,)`` int64 ids; unknown words are :attr:`unk_id`,
            padding is ``PAD_ID`` at the end.
        """
        case = str.lower if self.lowercase else str
        ids = [self._word_ids.get(case(w), self.unk_id) for w in words]
        ids = ids[:max_length] + [PAD_ID] * (max_length - len(ids))
        return np.array(ids, dtype=np.int64)

    def __eq__(self, other) -> bool:
        return (isinstance(other, QAVocabulary)
                and self.to_dict() == other.to_dict())

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({self.num_answers} answers, '
                f'{self.vocab_size} words, '
                f'{TOKENIZERS[self.lowercase]} tokenizer)')
