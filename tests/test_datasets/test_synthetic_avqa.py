"""The synthetic AVQA set: official layout, and answers that follow from the
pixels and the sound (checked from the files, not from the generator)."""
import json
import os
import os.path as osp
from collections import Counter, defaultdict

import numpy as np
import pytest
import soundfile

from molt.datasets import MusicAVQADataset
from molt.datasets.synthetic import make_avqa
from molt.datasets.synthetic.avqa import INSTRUMENTS, NUMBERS
from molt.datasets.synthetic.common import COLORS, TONES
from molt.datasets.transforms import LoadFrames


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('avqa_syn'))
    make_avqa(root, num_videos=dict(train=8, val=2, test=3))
    return root


def seen(frame, instrument):
    """Pixel count and mean column of the instrument's colour."""
    mask = np.abs(frame.astype(int) - COLORS[instrument]).sum(-1) < 60
    return mask.sum(), np.nonzero(mask)[1].mean() if mask.any() else None


def heard(wave, rate):
    """Instruments whose tone stands out of the spectrum."""
    spectrum = np.abs(np.fft.rfft(wave))
    level = np.median(spectrum)
    return {
        k for k in range(len(INSTRUMENTS))
        if spectrum[int(TONES[k] * len(wave) / rate)] > 50 * level
    }


def named(info):
    """Instruments the question names."""
    return [k for k, name in enumerate(INSTRUMENTS)
            if name in info['question_text']]


def expected_answer(info, frame, sounding):
    """The answer read off the first frame and the wav."""
    kind, text = info['question_type'], info['question_text']
    named_ = named(info)
    square = (2 * (len(frame) // 9) + 1)**2
    if kind == 'Audio/Counting':
        return NUMBERS[len(sounding)]
    if kind == 'Audio-Visual/Location':
        visible = [k for k in sounding if seen(frame, k)[0] > 20]
        return 'left' if seen(frame, visible[0])[1] < len(frame) / 2 \
            else 'right'
    pixels, column = seen(frame, named_[0])
    if kind == 'Visual/Counting':
        return NUMBERS[round(pixels / square)]
    if kind == 'Visual/Location':
        side = 'left' if column < len(frame) / 2 else 'right'
        return 'yes' if text.split(' the ')[2].startswith(side) else 'no'
    assert kind == 'Audio-Visual/Existential'
    return 'yes' if pixels > 20 and named_[0] in sounding else 'no'


def test_layout_and_answers_follow_the_media(root):
    for name in ('avqa-train.json', 'avqa-val.json', 'avqa-test.json',
                 'baselines.json'):
        assert osp.isfile(osp.join(root, name))
    with open(osp.join(root, 'avqa-train.json')) as f:
        raw = json.load(f)
    # The official encoding.
    assert isinstance(raw[0]['type'], str) and json.loads(raw[0]['type'])
    assert isinstance(raw[0]['templ_values'], str) and 'anser' in raw[0]
    assert any('<Object>' in e['question_content'] for e in raw)
    dataset = MusicAVQADataset(data_root=root)
    assert len(dataset) == len(raw)
    kinds = {dataset.get_data_info(i)['question_type']
             for i in range(len(dataset))}
    assert len(kinds) >= 4
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        frames = os.listdir(info['frame_dir'])
        wave, rate = soundfile.read(info['audio_path'])
        # 10-20 s: shorter than the 60 s sampled, so the last second repeats.
        assert 10 <= len(frames) <= 20 and len(wave) == len(frames) * rate
        loaded = LoadFrames()(dict(info))
        assert loaded['num_repeated_frames'] > 0
        answer = expected_answer(info, loaded['frames'][0], heard(wave, rate))
        assert answer == info['answer'], info


def test_every_valid_question_is_asked(root):
    """Per video: how many of each instrument it shows and of one it does
    not show; how many sound, once; whether each seen-and-heard
    instrument plays, and as many (at least one) of the others as there
    are."""
    dataset = MusicAVQADataset(data_root=root)
    by_video = defaultdict(list)
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        by_video[info['video_id']].append(info)
    for infos in by_video.values():
        frame = LoadFrames()(dict(infos[0]))['frames'][0]
        shown = {k for k in range(len(INSTRUMENTS)) if seen(frame, k)[0] > 20}
        kinds = Counter(info['question_type'] for info in infos)
        assert kinds['Audio/Counting'] == 1
        counted = [named(info)[0] for info in infos
                   if info['question_type'] == 'Visual/Counting']
        assert len(counted) == len(set(counted)) == len(shown) + 1
        assert shown < set(counted)
        playing = Counter(info['answer'] for info in infos
                          if info['question_type'] ==
                          'Audio-Visual/Existential')
        others = len(INSTRUMENTS) - playing['yes']
        assert playing['no'] == min(max(1, playing['yes']), others)


def test_question_only_baselines_are_imperfect(root):
    with open(osp.join(root, 'baselines.json')) as f:
        baselines = json.load(f)
    assert set(baselines) == {'majority', 'type_majority', 'question_only'}
    for result in baselines.values():
        assert 0 <= result['Overall'] < 90
