"""Reading a free-text question with a checkpoint's vocabulary."""
from dataclasses import dataclass, field
from typing import List

from molt.datasets.vocabulary import QAVocabulary, question_words
from .errors import VideoInputError

__all__ = ['QuestionReading', 'read_question']

QUESTION_MARKS = ('?', '？')


@dataclass
class QuestionReading:
    """How the model reads a question.

    Attributes:
        text: The question as given.
        words: Its words, read like the MUSIC-AVQA questions (see
            :func:`read_question`).
        unknown_words: Words the training vocabulary does not hold; the
            model reads them as ``<unk>``.
        cut_words: Words past the model's question length, not read.
        notes: What a user should know about the reading.
    """
    text: str
    words: List[str]
    unknown_words: List[str] = field(default_factory=list)
    cut_words: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)


def read_question(text: str, vocabulary: QAVocabulary,
                  max_length: int) -> QuestionReading:
    """Splits a question into the words the model reads.

    The words are those of the official ST-AVQA reading
    (:func:`~molt.datasets.vocabulary.question_words`: split on spaces,
    the final question mark dropped, case kept unless the vocabulary was
    built lower-cased). A question without a final question mark gets one
    first, because that reading drops the last character. Placeholders
    such as ``<Object>`` are not needed: name the object.

    Args:
        text: The question.
        vocabulary: The checkpoint's training vocabulary.
        max_length: Words the model reads (``TokenizeQuestion``'s).

    Raises:
        VideoInputError: The question is empty, holds a ``<...>``
            placeholder, or none of its words is in the vocabulary.
    """
    stripped = (text or '').strip()
    if not stripped:
        raise VideoInputError('The question is empty: ask one, e.g. '
                              '--question "How many instruments are '
                              'sounding?"')
    if '<' in stripped:
        raise VideoInputError(
            f'The question {text!r} holds a placeholder ("<...>"): write what '
            'it stands for (e.g. "Is the cello playing?").')
    notes = []
    if not stripped.endswith(QUESTION_MARKS):
        stripped += '?'
        notes.append('A final question mark was added.')
    words = [w for w in question_words(stripped, []) if w]
    ids = vocabulary.encode(words, len(words))
    unknown = [w for w, i in zip(words, ids) if i == vocabulary.unk_id]
    if len(unknown) == len(words):
        raise VideoInputError(
            f'No word of the question {text!r} is in the checkpoint\'s '
            f'vocabulary ({vocabulary.vocab_size - 2} words, e.g. '
            f'{", ".join(vocabulary.words[1:9])}), so the model cannot read '
            'it: ask with the words of its training questions (the '
            'vocabulary is case-sensitive).')
    if unknown:
        notes.append('Words outside the vocabulary, read as <unk>: ' +
                     ', '.join(unknown))
    cut = words[max_length:]
    if cut:
        notes.append(f'The model reads the first {max_length} words; not '
                     'read: ' + ' '.join(cut))
    return QuestionReading(text, words, unknown, cut, notes)
