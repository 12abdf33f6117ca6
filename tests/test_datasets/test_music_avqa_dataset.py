"""MusicAVQADataset: the official json format, the official ST-AVQA words,
vocabularies and answer ids, tokenising."""
import json
import os
import os.path as osp
import shutil

import pytest

from molt.datasets import (AnnotationError, MusicAVQADataset, QAVocabulary,
                           TokenizeQuestion)
from molt.datasets.vocabulary import PAD_ID, question_words
from molt.utils.run_report import data_issues, format_data_issues
from molt_media import write_converted

FIXTURE = osp.join(osp.dirname(__file__), 'fixtures', 'music_avqa_official')


def entry(question_id, content, values, answer, kind=('Audio', 'Counting'),
          video_id='00000272'):
    """One question as in avqa-*.json: ``type`` and ``templ_values`` are
    JSON-encoded strings, the answer field is spelt ``anser``."""
    return dict(
        video_id=video_id,
        question_id=question_id,
        type=json.dumps(list(kind)),
        question_content=content,
        templ_values=json.dumps(values),
        question_deleted=0,
        anser=answer)


TRAIN = [
    entry(1, 'How many instruments are sounding in the video?', [], 'two'),
    entry(2, 'Is the <Object> on the <LR> more rhythmic than the <Object>?',
          ['cello', 'left', 'acoustic_guitar'], 'yes',
          ('Audio-Visual', 'Comparative'), '-0000273'),
    entry(3, 'Where is the <FL> sounding instrument？ ', ['first'], 'left',
          ('Audio-Visual', 'Location')),
]
VAL = [
    entry(4, 'Is the <Object> playing?', ['bagpipe'], 'yes',
          ('Audio-Visual', 'Existential')),
    # 'middle' never answers a training question.
    entry(5, 'Where is the <Object>?', ['cello'], 'middle',
          ('Visual', 'Location')),
]


def write_split(root, name, entries, media=True, prefix=''):
    os.makedirs(root, exist_ok=True)
    with open(osp.join(root, name), 'w', encoding='utf-8') as f:
        f.write(prefix + json.dumps(entries, ensure_ascii=False))
    if media:
        for e in entries:
            if not osp.isdir(osp.join(root, 'frames', e['video_id'])):
                write_converted(root, e['video_id'], 60, 60.0)


@pytest.fixture
def logged(monkeypatch):
    """Messages the datasets log (mmengine's logger keeps the stdout of the
    test that created it, so capsys cannot be relied on)."""
    messages = []
    for module in ('molt.datasets.music_avqa', 'molt.datasets.utils',
                   'molt.utils.run_report'):
        monkeypatch.setattr(f'{module}.print_log',
                            lambda msg, **kwargs: messages.append(msg))
    return messages


@pytest.fixture
def root(tmp_path):
    root = str(tmp_path / 'music_avqa')
    write_split(root, 'avqa-train.json', TRAIN)
    write_split(root, 'avqa-val.json', VAL)
    return root


def test_official_tokens_vocabularies_and_answer_ids(tmp_path):
    """The fixture (real release entries) against the output of the
    official ST-AVQA algorithm run on it (``expected.json``)."""
    with open(osp.join(FIXTURE, 'expected.json'), encoding='utf-8') as f:
        expected = json.load(f)
    root = str(tmp_path / 'official')
    shutil.copytree(FIXTURE, root)
    for e in json.load(open(osp.join(root, 'avqa-train.json'))):
        write_converted(root, e['video_id'], 60, 60.0)
    dataset = MusicAVQADataset(data_root=root)
    vocabulary = dataset.metainfo['vocabulary']
    # molt's words are the official ones, with <unk> appended.
    assert vocabulary['words'] == expected['question_vocabulary'] + ['<unk>']
    assert vocabulary['answers'] == expected['answer_vocabulary']
    assert vocabulary['tokenizer'] == 'st-avqa'
    tokenize = TokenizeQuestion(max_length=14)
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        qid = str(info['question_id'])
        assert info['question_words'] == expected['question_words'][qid]
        assert info['gt_answer'] == expected['answer_ids'][qid]
        ids = tokenize(info)['question'].tolist()
        assert ids == expected['question_ids'][qid]
    # The full-width mark and trailing spaces leave no token behind.
    words = set(vocabulary['words'])
    assert not words & {'?', '？', ''} and 'Is' in words and 'is' in words


def test_question_words_follow_the_official_reading():
    assert question_words('Is the <Object> on the <LR>？ ',
                          ['cello', 'left']) == [
                              'Is', 'the', 'cello', 'on', 'the', 'left'
                          ]
    # A placeholder glued to the mark, a value with a space: whole words.
    assert question_words('Where is the <Object>?', ['acoustic guitar']) == [
        'Where', 'is', 'the', 'acoustic guitar'
    ]
    # Without a final mark the official reading drops a letter.
    assert question_words('Is it loud', []) == ['Is', 'it', 'lou']
    with pytest.raises(ValueError, match='more placeholder words'):
        question_words('Is <Object> left of <Object>?', ['cello'])


def test_parses_the_official_format(root):
    dataset = MusicAVQADataset(data_root=root)
    assert len(dataset) == 3
    info = dataset.get_data_info(1)
    # Placeholders are filled in order of appearance.
    assert info['question_text'] == (
        'Is the cello on the left more rhythmic than the acoustic_guitar?')
    assert info['question_words'][-3:] == ['than', 'the', 'acoustic_guitar']
    assert info['question_type'] == 'Audio-Visual/Comparative'
    assert info['question_id'] == 2
    assert info['answer'] == 'yes'
    assert info['segment_seconds'] == [0, 6, 12, 18, 24, 30, 36, 42, 48, 54]
    assert info['frame_dir'] == osp.join(root, 'frames', '-0000273')
    assert info['audio_path'] == osp.join(root, 'audio', '-0000273.wav')
    answers = dataset.metainfo['vocabulary']['answers']
    assert answers == ['two', 'yes', 'left']  # first appearance
    assert info['gt_answer'] == 1
    assert dataset.metainfo['num_answers'] == 3
    assert dataset.metainfo['vocab_size'] == len(
        dataset.metainfo['vocabulary']['words'])


def test_vocabulary_is_from_train_only_in_file_order(root, tmp_path):
    words = MusicAVQADataset(data_root=root).metainfo['vocabulary']['words']
    assert words[:4] == ['<pad>', 'How', 'many', 'instruments']
    assert words[-1] == '<unk>'
    assert {'acoustic_guitar', 'cello', 'first'} <= set(words)
    # The order of the training file decides the ids.
    other = str(tmp_path / 'reversed')
    write_split(other, 'avqa-train.json', TRAIN[::-1])
    reversed_vocab = MusicAVQADataset(data_root=other).metainfo['vocabulary']
    assert reversed_vocab['answers'] == ['left', 'yes', 'two']
    assert reversed_vocab['words'][1:3] == ['Where', 'is']
    # The val split uses the training vocabulary, not its own.
    val = MusicAVQADataset(
        ann_file='avqa-val.json', data_root=root, test_mode=True)
    assert val.metainfo['vocabulary']['words'] == words
    assert 'bagpipe' not in words and 'middle' not in val.metainfo[
        'vocabulary']['answers']


def test_lowercase_option(root):
    dataset = MusicAVQADataset(data_root=root, lowercase_questions=True)
    vocabulary = dataset.metainfo['vocabulary']
    assert vocabulary['tokenizer'] == 'st-avqa-lowercase'
    assert 'how' in vocabulary['words'] and 'How' not in vocabulary['words']
    ids = TokenizeQuestion()(dataset.get_data_info(0))['question']
    assert ids[0] == vocabulary['words'].index('how')


def test_unknown_words_map_to_unk_and_questions_are_padded(root):
    val = MusicAVQADataset(
        ann_file='avqa-val.json', data_root=root, test_mode=True)
    words = val.metainfo['vocabulary']['words']
    results = TokenizeQuestion(max_length=6)(val.get_data_info(0))
    ids = results['question'].tolist()
    # 'Is the bagpipe playing': 'bagpipe' and 'playing' are unseen.
    unk = len(words) - 1
    assert ids == [words.index('Is'), words.index('the'), unk, unk, PAD_ID,
                   PAD_ID]
    long = TokenizeQuestion(max_length=3)(val.get_data_info(0))['question']
    assert long.tolist() == ids[:3]
    # A typed question without the dataset's words is read the same way.
    typed = TokenizeQuestion(max_length=3)(
        dict(question_text='Is the cello?', vocabulary=val.vocabulary))
    assert typed['question'].tolist() == [words.index('Is'),
                                          words.index('the'),
                                          words.index('cello')]


def test_out_of_vocabulary_answer_fails_training_and_is_wrong_in_test(
        root, logged):
    write_split(root, 'bad-train.json', TRAIN + VAL[1:])
    with pytest.raises(AnnotationError) as error:
        MusicAVQADataset(ann_file='bad-train.json', data_root=root)
    assert 'bad-train.json, question_id 5' in str(error.value)
    assert "'middle'" in str(error.value)
    val = MusicAVQADataset(
        ann_file='avqa-val.json', data_root=root, test_mode=True)
    assert [val.get_data_info(i)['gt_answer'] for i in range(2)] == [
        val.metainfo['vocabulary']['answers'].index('yes'), -1
    ]
    assert '1 question(s) have answers outside' in ' '.join(logged)


def test_questions_without_a_known_word_are_reported(root, logged):
    """A question made only of words outside the training vocabulary is
    read as all <unk>: scored, but named by question_id in the log and
    counted in the end-of-run summary."""
    write_split(root, 'odd-val.json', VAL + [
        entry(6, 'Wherefore art thou?', [], 'yes', ('Audio', 'Counting')),
        entry(7, 'Quo vadis?', [], 'yes', ('Audio', 'Counting')),
    ])
    val = MusicAVQADataset(ann_file='odd-val.json', data_root=root,
                           test_mode=True)
    assert len(val) == 4  # still scored
    report, = [m for m in logged if 'no word of the training' in m]
    assert 'odd-val.json: 2 question(s)' in report
    assert 'question_id 6, 7' in report
    assert sum('odd-val.json: 2 question(s)' in summary
               for summary in data_issues()) == 1
    assert 'odd-val.json: 2 question(s)' in format_data_issues()


def test_given_vocabulary_wins_and_needs_no_training_file(root):
    saved = QAVocabulary(['middle', 'yes'], ['<pad>', 'Where', '<unk>'])
    os.remove(osp.join(root, 'avqa-train.json'))
    val = MusicAVQADataset(
        ann_file='avqa-val.json', data_root=root, test_mode=True,
        vocabulary=saved.to_dict())
    assert val.metainfo['vocabulary'] == saved.to_dict()
    assert val.get_data_info(1)['gt_answer'] == 0
    with pytest.raises(FileNotFoundError, match='avqa-train.json'):
        MusicAVQADataset(
            ann_file='avqa-val.json', data_root=root, test_mode=True)


def test_vocabulary_saved_before_the_official_tokenisation_fails_clearly(
        root):
    old = dict(answers=['left', 'two', 'yes'],
               words=['<pad>', '<unk>', '?', 'how', 'is'])
    with pytest.raises(ValueError, match='saved by an older molt.*retrain'):
        MusicAVQADataset(ann_file='avqa-val.json', data_root=root,
                         test_mode=True, vocabulary=old)


def test_byte_order_mark_reads_the_same(root, tmp_path):
    marked = str(tmp_path / 'bom')
    write_split(marked, 'avqa-train.json', TRAIN, prefix='\ufeff')
    assert (MusicAVQADataset(data_root=marked).metainfo['vocabulary'] ==
            MusicAVQADataset(data_root=root).metainfo['vocabulary'])


def test_irregular_entries_the_official_code_accepts_are_reported(
        root, logged):
    extra = entry(6, 'Is the <Object> playing?', ['cello', 'left'], 'yes')
    no_mark = entry(7, 'How many instruments are sounding', [], 'two')
    write_split(root, 'avqa-train.json', TRAIN + [extra, no_mark])
    dataset = MusicAVQADataset(data_root=root)
    assert dataset.get_data_info(3)['question_words'][-2:] == [
        'cello', 'playing'
    ]
    assert dataset.get_data_info(4)['question_words'][-1] == 'soundin'
    note, = [m for m in logged if 'irregular' in m]
    assert 'accepted 2 irregular entries' in note
    assert ("question_id 6: 'Is the <Object> playing?' uses 1 of the "
            "template values ['cello', 'left']") in note
    assert ('question_id 7: \'How many instruments are sounding\' does not '
            "end with a punctuation mark; its last character 'g' is "
            'dropped') in note


@pytest.mark.parametrize('field,value,problem', [
    ('anser', None, "missing field(s) ['anser']"),
    ('type', '["Audio", "Counting"', 'field "type" must be a list literal'),
    ('type', '["Audio", "Singing"]', "unknown question type 'Audio/Singing'"),
    ('templ_values', 'cello', 'field "templ_values" must be a list'),
    ('templ_values', '[]', 'more placeholder words than the 0 template'),
    ('question_content', ' ', 'must be a non-empty string'),
])
def test_malformed_entries_name_file_and_question_id(root, field, value,
                                                      problem):
    bad = entry(77, 'Is the <Object> playing?', ['cello'], 'yes')
    if value is None:
        del bad[field]
    else:
        bad[field] = value
    write_split(root, 'avqa-train.json', TRAIN + [bad])
    with pytest.raises(AnnotationError) as error:
        MusicAVQADataset(data_root=root)
    message = str(error.value)
    assert 'avqa-train.json, question_id 77' in message
    assert problem in message


def test_single_quoted_lists_are_read_like_the_official_code(root):
    quoted = entry(8, 'Is the <Object> playing?', [], 'yes')
    quoted.update(type="['Audio', 'Counting']", templ_values="['cello']")
    write_split(root, 'avqa-train.json', TRAIN + [quoted])
    info = MusicAVQADataset(data_root=root).get_data_info(3)
    assert info['question_type'] == 'Audio/Counting'
    assert info['question_words'] == ['Is', 'the', 'cello', 'playing']


def test_missing_media_unreadable_videos_and_short_videos(root, logged):
    os.remove(osp.join(root, 'audio', '-0000273.wav'))
    with pytest.raises(FileNotFoundError, match='-0000273.wav'):
        MusicAVQADataset(data_root=root)
    with open(osp.join(root, 'unreadable_videos.txt'), 'w') as f:
        f.write('-0000273\tcannot decode\n')
    assert len(MusicAVQADataset(data_root=root)) == 2
    assert 'skipped 1 sample(s)' in ' '.join(logged)
    # A 30 s video: its questions read up to second 54.
    shutil.rmtree(osp.join(root, 'frames', '00000272'))
    write_converted(root, '00000272', 30, 30.0)
    MusicAVQADataset(data_root=root)
    assert ('2 of 2 samples repeat frames or audio (0 whose frames and '
            'audio disagree, 2 shorter') in logged[-1]
    assert any('2 of 2 samples repeat frames or audio' in summary
               for summary in data_issues())  # in the end-of-run summary
    assert ('00000272: repeats frames and audio; reads 55 s, frames 30 s, '
            'audio 30.00 s') in logged[-1]
