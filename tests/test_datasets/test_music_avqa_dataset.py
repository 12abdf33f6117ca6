"""MusicAVQADataset: the official json format, vocabularies, tokenising."""
import json
import os
import os.path as osp

import pytest

from molt.datasets import (AnnotationError, MusicAVQADataset, QAVocabulary,
                           TokenizeQuestion)
from molt.datasets.vocabulary import PAD_ID, UNK_ID


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
    entry(3, 'Where is the <FL> sounding instrument?', ['first'], 'left',
          ('Audio-Visual', 'Location')),
]
VAL = [
    entry(4, 'Is the <Object> playing?', ['bagpipe'], 'yes',
          ('Audio-Visual', 'Existential')),
    # 'middle' never answers a training question.
    entry(5, 'Where is the <Object>?', ['cello'], 'middle',
          ('Visual', 'Location')),
]


def write_split(root, name, entries, media=True):
    os.makedirs(root, exist_ok=True)
    with open(osp.join(root, name), 'w') as f:
        json.dump(entries, f)
    if media:
        for e in entries:
            frame_dir = osp.join(root, 'frames', e['video_id'])
            os.makedirs(frame_dir, exist_ok=True)
            os.makedirs(osp.join(root, 'audio'), exist_ok=True)
            open(osp.join(frame_dir, '00.jpg'), 'wb').close()
            open(osp.join(root, 'audio', f"{e['video_id']}.wav"), 'wb').close()


@pytest.fixture
def logged(monkeypatch):
    """Messages the datasets log (mmengine's logger keeps the stdout of the
    test that created it, so capsys cannot be relied on)."""
    messages = []
    for module in ('molt.datasets.music_avqa', 'molt.datasets.utils'):
        monkeypatch.setattr(f'{module}.print_log',
                            lambda msg, **kwargs: messages.append(msg))
    return messages


@pytest.fixture
def root(tmp_path):
    root = str(tmp_path / 'music_avqa')
    write_split(root, 'avqa-train.json', TRAIN)
    write_split(root, 'avqa-val.json', VAL)
    return root


def test_parses_the_official_format(root):
    dataset = MusicAVQADataset(data_root=root)
    assert len(dataset) == 3
    info = dataset.get_data_info(1)
    # Placeholders are filled in order of appearance.
    assert info['question_text'] == (
        'Is the cello on the left more rhythmic than the acoustic_guitar?')
    assert info['question_type'] == 'Audio-Visual/Comparative'
    assert info['question_id'] == 2
    assert info['answer'] == 'yes'
    assert info['segment_seconds'] == [0, 6, 12, 18, 24, 30, 36, 42, 48, 54]
    assert info['frame_dir'] == osp.join(root, 'frames', '-0000273')
    assert info['audio_path'] == osp.join(root, 'audio', '-0000273.wav')
    answers = dataset.metainfo['vocabulary']['answers']
    assert answers == ['left', 'two', 'yes']  # sorted
    assert info['gt_answer'] == answers.index('yes')
    assert dataset.metainfo['num_answers'] == 3
    assert dataset.metainfo['vocab_size'] == len(
        dataset.metainfo['vocabulary']['words'])


def test_vocabulary_is_deterministic_and_from_train_only(root, tmp_path):
    words = MusicAVQADataset(data_root=root).metainfo['vocabulary']['words']
    assert words[:2] == ['<pad>', '<unk>']
    assert words[2:] == sorted(words[2:])
    assert {'acoustic_guitar', 'cello', 'first', '?'} <= set(words)
    # Same questions in another order: the same vocabulary.
    other = str(tmp_path / 'shuffled')
    write_split(other, 'avqa-train.json', TRAIN[::-1])
    shuffled = MusicAVQADataset(data_root=other).metainfo['vocabulary']
    assert shuffled == MusicAVQADataset(data_root=root).metainfo['vocabulary']
    # The val split uses the training vocabulary, not its own.
    val = MusicAVQADataset(
        ann_file='avqa-val.json', data_root=root, test_mode=True)
    assert val.metainfo['vocabulary']['words'] == words
    assert 'bagpipe' not in words and 'middle' not in val.metainfo[
        'vocabulary']['answers']


def test_unknown_words_map_to_unk_and_questions_are_padded(root):
    val = MusicAVQADataset(
        ann_file='avqa-val.json', data_root=root, test_mode=True)
    words = val.metainfo['vocabulary']['words']
    results = TokenizeQuestion(max_length=8)(val.get_data_info(0))
    ids = results['question'].tolist()
    # 'is the bagpipe playing ?': 'bagpipe' and 'playing' are unseen.
    assert ids == [
        words.index('is'), words.index('the'), UNK_ID, UNK_ID,
        words.index('?'), PAD_ID, PAD_ID, PAD_ID
    ]
    long = TokenizeQuestion(max_length=3)(val.get_data_info(0))['question']
    assert long.tolist() == ids[:3]


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


def test_given_vocabulary_wins_and_needs_no_training_file(root):
    saved = QAVocabulary(['middle', 'yes'], ['<pad>', '<unk>', 'where'])
    os.remove(osp.join(root, 'avqa-train.json'))
    val = MusicAVQADataset(
        ann_file='avqa-val.json', data_root=root, test_mode=True,
        vocabulary=saved.to_dict())
    assert val.metainfo['vocabulary'] == saved.to_dict()
    assert val.get_data_info(1)['gt_answer'] == 0
    with pytest.raises(FileNotFoundError, match='avqa-train.json'):
        MusicAVQADataset(
            ann_file='avqa-val.json', data_root=root, test_mode=True)


@pytest.mark.parametrize('field,value,problem', [
    ('anser', None, "missing field(s) ['anser']"),
    ('type', '["Audio", "Counting"', 'field "type" must be a JSON-encoded'),
    ('type', '["Audio", "Singing"]', "unknown question type 'Audio/Singing'"),
    ('templ_values', "['cello']", 'field "templ_values" must be a JSON'),
    ('templ_values', '["cello", "left"]',
     "has 1 placeholder(s) ['<Object>'] but \"templ_values\" has 2"),
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


def test_missing_media_and_unreadable_videos(root, logged):
    os.remove(osp.join(root, 'audio', '-0000273.wav'))
    with pytest.raises(FileNotFoundError, match='-0000273.wav'):
        MusicAVQADataset(data_root=root)
    with open(osp.join(root, 'unreadable_videos.txt'), 'w') as f:
        f.write('-0000273\tcannot decode\n')
    assert len(MusicAVQADataset(data_root=root)) == 2
    assert 'skipped 1 sample(s)' in ' '.join(logged)
