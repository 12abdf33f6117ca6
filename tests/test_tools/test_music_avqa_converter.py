"""tools/dataset_converters/music_avqa.py on a fake MUSIC-AVQA release."""
import json
import os
from pathlib import Path

import pytest
import soundfile as sf

from molt.datasets import MusicAVQADataset
from molt_testing import load_script, write_corrupt_video, write_test_video

converter = load_script('tools/dataset_converters/music_avqa.py')

SECONDS = {'00000001': 2.0, '00000002': 3.0}  # both shorter than 60 s
CORRUPT_ID = '00000003'


def question(question_id, video_id):
    return dict(
        video_id=video_id, question_id=question_id,
        type=json.dumps(['Audio', 'Counting']),
        question_content='How many instruments are sounding?',
        templ_values='[]', anser='two')


def make_release(root: Path) -> None:
    """Question files plus two good videos and a corrupt one in videos/."""
    splits = {
        'avqa-train.json': [question(1, '00000001'), question(2, '00000002'),
                            question(3, '00000001')],
        'avqa-val.json': [question(4, CORRUPT_ID)],
        'avqa-test.json': [question(5, '00000002')],
    }
    (root / 'videos').mkdir(parents=True)
    for name, entries in splits.items():
        (root / name).write_text(json.dumps(entries))
    for video_id, seconds in SECONDS.items():
        write_test_video(
            str(root / 'videos' / f'{video_id}.mp4'), seconds=seconds)
    write_corrupt_video(str(root / 'videos' / f'{CORRUPT_ID}.mp4'))


def test_converts_videos_and_copies_the_question_files(tmp_path, capsys):
    raw, out = tmp_path / 'MUSIC-AVQA', tmp_path / 'music_avqa'
    make_release(raw)
    converter.main([str(raw), str(out), '--short-side', '24', '--nproc', '2'])
    for name in converter.ANNOTATION_FILES:
        assert (out / name).read_bytes() == (raw / name).read_bytes()
    assert sorted(os.listdir(out / 'frames')) == sorted(SECONDS)
    for video_id, seconds in SECONDS.items():
        # One frame per second of the video, no padding to 60.
        assert sorted(os.listdir(out / 'frames' / video_id)) == [
            f'{i:02d}.jpg' for i in range(int(seconds))
        ]
        info = sf.info(str(out / 'audio' / f'{video_id}.wav'))
        assert (info.samplerate, info.channels) == (32000, 1)
        assert info.duration == pytest.approx(seconds, abs=0.1)
    failed = (out / 'unreadable_videos.txt').read_text().splitlines()
    assert [line.split('\t')[0] for line in failed] == [CORRUPT_ID]
    assert '2 converted' in capsys.readouterr().out


def test_missing_question_file_and_bad_entries(tmp_path):
    raw = tmp_path / 'MUSIC-AVQA'
    make_release(raw)
    (raw / 'avqa-val.json').unlink()
    with pytest.raises(SystemExit, match='avqa-val.json'):
        converter.main([str(raw), str(tmp_path / 'out')])
    (raw / 'avqa-val.json').write_text(json.dumps([{'question_id': 9}]))
    with pytest.raises(SystemExit, match=r'avqa-val.json, entry 0: no '):
        converter.main([str(raw), str(tmp_path / 'out')])
    assert not (tmp_path / 'out').exists()


def test_byte_order_mark_is_read_like_the_dataset(tmp_path):
    raw, out = tmp_path / 'MUSIC-AVQA', tmp_path / 'music_avqa'
    make_release(raw)
    train = raw / 'avqa-train.json'
    train.write_text('\ufeff' + train.read_text(), encoding='utf-8')
    assert converter.read_video_ids([str(train)]) == ['00000001', '00000002']
    converter.main([str(raw), str(out), '--short-side', '24'])
    dataset = MusicAVQADataset(data_root=str(out))
    assert [dataset.get_data_info(i)['video_id'] for i in range(3)] == [
        '00000001', '00000002', '00000001'
    ]
