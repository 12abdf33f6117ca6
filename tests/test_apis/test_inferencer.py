"""AVInferencer on user videos, for the three tasks."""
import json
import os
import os.path as osp
import pickle
import shutil

import numpy as np
import pytest
from PIL import Image

from molt.apis import AVInferencer
from molt.apis.outputs import json_ready
from molt.datasets.media import convert_video, read_rgb, read_wav, write_video
from molt.datasets.synthetic import make_ave
from molt.utils import IncompatibleCheckpointError
from molt.visualization.answer_strip import strip_size
from molt.visualization.ave_timeline import timeline_size
from molt_media import truncate, write_av
from molt_testing import load_script, runner_options, write_corrupt_video

BACKGROUND = 28


def _results(inferencer, inputs, **kwargs):
    return inferencer(inputs, **kwargs)['predictions']


# -- AVE ---------------------------------------------------------------------
def test_ave_agrees_with_tools_test_on_the_converted_videos(
        tmp_path, checkpoints, inferencers):
    """A synthetic-demo video given to the inferencer gets the predictions
    tools/test.py makes for its converted copy (same frames, same seconds),
    for a 10 s video and for a 6 s one (the short-video policy)."""
    raw = str(tmp_path / 'synthetic')
    make_ave(raw, num_videos=dict(train=1, val=1, test=2), seed=1)
    rows = open(osp.join(raw, 'testSet.txt')).read().splitlines()
    ids = [row.split('&')[1] for row in rows]
    full = load_script('tools/misc/converted_to_video.py').main([
        osp.join(raw, 'frames', ids[0]),
        osp.join(raw, 'audio', ids[0] + '.wav'), str(tmp_path / 'full.mp4')
    ])
    wave, rate = read_wav(osp.join(raw, 'audio', ids[1] + '.wav'))
    short = write_video(
        str(tmp_path / 'short.mkv'),
        [read_rgb(osp.join(raw, 'frames', ids[1], f'{s:02d}.jpg'))
         for s in range(6)], wave[:6 * rate, 0], rate)

    data = str(tmp_path / 'converted')
    for video_id, path in zip(ids, (full, short)):
        convert_video(path, osp.join(data, 'frames', video_id),
                      osp.join(data, 'audio', video_id + '.wav'), 10)
    shutil.copy(osp.join(raw, 'testSet.txt'), data)
    config, checkpoint = checkpoints['ave']
    dump = str(tmp_path / 'test.pkl')
    load_script('tools/test.py').main(
        [config, checkpoint, '--out', dump, '--work-dir',
         str(tmp_path / 'work')] + runner_options(data, 1))
    with open(dump, 'rb') as f:
        tested = {r['video_id']: r for r in pickle.load(f)}

    inferred = _results(inferencers['ave'], [full, short], batch_size=2)
    for video_id, result, seconds in zip(ids, inferred, (10, 6)):
        assert result['num_seconds'] == seconds
        expected = tested[video_id]
        assert [s['label'] for s in result['seconds']] == \
            expected['pred_label'][:seconds].tolist()
        np.testing.assert_allclose(
            [s['event_probability'] for s in result['seconds']],
            expected['pred_event_score'][:seconds].numpy(), atol=1e-6)
    assert 'repeated second 5' in inferred[1]['notes'][0]
    # The model reads the videos: they get different scores.
    assert not np.allclose(
        [s['event_probability'] for s in inferred[0]['seconds'][:6]],
        [s['event_probability'] for s in inferred[1]['seconds']])


def _check_ave_second(entry, threshold):
    topk = [e['probability'] for e in entry['topk']]
    assert topk == sorted(topk, reverse=True)
    if entry['label'] == BACKGROUND:
        assert entry['event_probability'] <= threshold
        assert entry['probability'] == pytest.approx(
            1 - entry['event_probability'], abs=1e-6)
    else:
        assert entry['event_probability'] > threshold
        assert entry['probability'] <= entry['event_probability']


def test_ave_25_s_video_gives_25_seconds(tmp_path, inferencers,
                                         cut_silent_ave):
    path = write_av(str(tmp_path / 'long.mp4'), seconds=25.0, fps=2,
                    size=(48, 32))
    result, = _results(inferencers['ave'], path)
    assert result['status'] == 'done'
    assert [s['second'] for s in result['seconds']] == list(range(25))
    assert [(w['start'], w['reported']) for w in result['windows']] == [
        (0, 10), (10, 8), (15, 7)
    ]
    assert '3 windows of 10 s' in result['notes'][0]
    for entry in result['seconds']:
        _check_ave_second(entry, result['event_threshold'])
    event = result['event']
    assert event['label'] < BACKGROUND and event == dict(event['topk'][0],
                                                         topk=event['topk'])
    # Seconds 0-9 come from the first window: the 10 s cut of the video
    # gives them.
    head, = _results(cut_silent_ave, path)
    assert head['num_seconds'] == 10
    np.testing.assert_allclose(
        [s['event_probability'] for s in head['seconds']],
        [s['event_probability'] for s in result['seconds'][:10]], atol=1e-6)


def test_batches_across_videos_change_nothing(inferencers, videos):
    inputs = [videos['webm'], videos['mkv']]
    one = _results(inferencers['ave'], inputs, batch_size=1)
    many = _results(inferencers['ave'], inputs, batch_size=2)
    for a, b in zip(one, many):
        assert [s['label'] for s in a['seconds']] == \
            [s['label'] for s in b['seconds']]
        np.testing.assert_allclose(
            [s['event_probability'] for s in a['seconds']],
            [s['event_probability'] for s in b['seconds']], atol=1e-5)


def test_ave_outputs_in_out_dir(tmp_path, inferencers, videos):
    out = inferencers['ave']([videos['webm'], videos['mp4']],
                             out_dir=str(tmp_path / 'out'), return_vis=True)
    # clip.webm and clip.mp4: the second folder gets a suffix.
    assert sorted(os.listdir(tmp_path / 'out')) == ['clip', 'clip-2']
    for name, result, pictures in zip(['clip', 'clip-2'], out['predictions'],
                                      out['visualization']):
        folder = tmp_path / 'out' / name
        with open(folder / 'result.json') as f:
            assert json.load(f) == json.loads(json.dumps(json_ready(result)))
        with Image.open(folder / 'timeline.png') as image:
            assert image.size == timeline_size(result['num_seconds'])
        assert pictures['timeline.png'].shape == (
            timeline_size(result['num_seconds'])[::-1] + (3, ))
        assert osp.getsize(folder / 'timeline.png') < 150_000


# -- AVS ---------------------------------------------------------------------
def test_avs_masks_at_the_video_resolution(tmp_path, inferencers, videos):
    out = inferencers['avs']([videos['mkv'], videos['mp4']],
                             out_dir=str(tmp_path / 'out'))
    result, other = out['predictions']
    assert other['status'] == 'done' and len(other['frames']) == 6
    assert other['frames'][0]['mask'].shape == (32, 48)
    assert result['num_seconds'] == 6
    assert [f['second'] for f in result['frames']] == list(range(6))
    for entry in result['frames']:
        assert entry['mask'].shape == entry['probability'].shape == (48, 32)
        np.testing.assert_array_equal(entry['mask'],
                                      entry['probability'] > 0.5)
        assert entry['foreground'] == pytest.approx(entry['mask'].mean())
    folder = tmp_path / 'out' / 'portrait'
    for second in range(6):
        with Image.open(folder / 'overlays' / f'{second:02d}.png') as image:
            assert image.size == (256, 384)  # the sampled frame's size
        with Image.open(folder / 'masks' / f'{second:02d}.png') as image:
            assert image.size == (32, 48)  # the video's
            np.testing.assert_array_equal(
                np.asarray(image) > 0, result['frames'][second]['mask'])
    with Image.open(folder / 'overlays.gif') as gif:
        assert gif.size == (256, 384) and gif.n_frames == 6
    probabilities = np.load(folder / 'probabilities.npz')['probability']
    assert probabilities.shape == (6, 48, 32)
    saved = json.loads((folder / 'result.json').read_text())
    assert saved['frames'][2]['mask_file'] == 'masks/02.png'


# -- AVQA --------------------------------------------------------------------
def test_avqa_answers_a_free_text_question(tmp_path, inferencers, videos,
                                           vocabulary):
    out = inferencers['avqa']([videos['webm'], videos['mp4']],
                              question='How many violins are sounding',
                              out_dir=str(tmp_path / 'out'))
    for result in out['predictions']:
        assert result['answer'] in vocabulary.answers
        assert result['topk'][0]['name'] == result['answer']
        assert result['probability'] == result['topk'][0]['probability']
        assert result['unknown_words'] == ['violins']
        assert result['seconds'] == list(range(0, 60, 6))
    webm = out['predictions'][0]
    assert any('seconds [6, 12' in note for note in webm['notes'])
    with Image.open(tmp_path / 'out' / 'clip' / 'frames.png') as image:
        assert image.size == strip_size()


def test_avqa_question_without_known_words_fails_each_video(
        inferencers, videos):
    results = _results(inferencers['avqa'], [videos['webm'], videos['mp4']],
                       question='Wie viele Instrumente?')
    assert [r['status'] for r in results] == ['failed', 'failed']
    assert 'No word of the question' in results[0]['error']


def test_question_for_a_model_without_questions_is_refused(
        inferencers, videos):
    with pytest.raises(ValueError, match='reads none'):
        inferencers['ave'](videos['webm'], question='Is it?')


# -- bad inputs --------------------------------------------------------------
def test_bad_videos_fail_alone(tmp_path, inferencers, videos):
    empty = str(tmp_path / 'empty.mp4')
    open(empty, 'wb').close()
    bad = [
        empty,
        write_corrupt_video(str(tmp_path / 'random.mp4')),
        truncate(write_av(str(tmp_path / 'cut.mp4'), seconds=2.0), 0.5),
        write_av(str(tmp_path / 'song.m4a'), video_codec=None),
        write_av(str(tmp_path / 'mute.mp4'), seconds=2.0, audio_codec=None),
        str(tmp_path / 'absent.mkv'),
    ]
    results = _results(inferencers['ave'], [videos['webm']] + bad)
    assert [r['status'] for r in results] == ['done'] + ['failed'] * 6
    errors = [r['error'] for r in results[1:]]
    for path, error, message in zip(bad, errors, [
            'empty', 'cannot decode', 'truncated', 'audio-only',
            'no audio stream', 'no such file'
    ]):
        assert error.startswith(path) and message in error


def test_missing_audio_can_be_silence(tmp_path, cut_silent_ave):
    path = write_av(str(tmp_path / 'mute.mp4'), seconds=2.0, fps=4,
                    audio_codec=None)
    result, = _results(cut_silent_ave, path)
    assert result['status'] == 'done' and result['num_seconds'] == 2
    assert any('heard silence' in note for note in result['notes'])


@pytest.mark.parametrize('config_task,checkpoint_task,error,message', [
    ('avs', 'ave', IncompatibleCheckpointError, 'does not fit the model'),
    ('avqa', 'ave', ValueError, 'does not record num_answers'),
])
def test_checkpoint_that_does_not_fit_fails_at_once(
        checkpoints, config_task, checkpoint_task, error, message):
    with pytest.raises(error, match=message):
        AVInferencer(checkpoints[config_task][0],
                     checkpoints[checkpoint_task][1], device='cpu')
