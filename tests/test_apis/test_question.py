"""Free-text questions read with a checkpoint's vocabulary."""
import pytest

from molt.apis import VideoInputError, read_question


def test_known_and_unknown_words(vocabulary):
    reading = read_question('How many violins are sounding?', vocabulary, 14)
    assert reading.words == ['How', 'many', 'violins', 'are', 'sounding']
    assert reading.unknown_words == ['violins']
    assert any('violins' in note for note in reading.notes)


def test_missing_question_mark_is_added_not_a_letter_lost(vocabulary):
    reading = read_question('Is the cello playing', vocabulary, 14)
    assert reading.words == ['Is', 'the', 'cello', 'playing']
    assert reading.unknown_words == []
    assert 'question mark was added' in reading.notes[0]


def test_words_past_the_model_length_are_reported(vocabulary):
    reading = read_question('Is the cello playing the cello?', vocabulary, 4)
    assert reading.cut_words == ['the', 'cello']
    assert any('first 4 words' in note for note in reading.notes)


@pytest.mark.parametrize('text,message', [
    ('Wie viele Instrumente?', 'No word of the question'),
    ('how MANY?', 'case-sensitive'),
    ('Is the <Object> playing?', 'placeholder'),
    ('   ', 'empty'),
])
def test_unreadable_questions_fail_clearly(vocabulary, text, message):
    with pytest.raises(VideoInputError, match=message):
        read_question(text, vocabulary, 14)
