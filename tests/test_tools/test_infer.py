"""tools/infer.py: one command for the three tasks, with pictures."""
import json

import pytest
from PIL import Image

from molt.visualization.answer_strip import strip_size
from molt.visualization.ave_timeline import timeline_size
from molt_media import write_av
from molt_testing import demo_dataset_meta, load_script, write_demo_checkpoint

CONFIGS = dict(
    ave='configs/demo/ave_synthetic.py',
    avs='configs/demo/avs_synthetic.py',
    avqa='configs/demo/avqa_synthetic.py')


@pytest.fixture(scope='module')
def infer():
    return load_script('tools/infer.py').main


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp('checkpoints')
    return {
        task: write_demo_checkpoint(config, str(root / f'{task}.pth'),
                                    demo_dataset_meta(task))
        for task, config in CONFIGS.items()
    }


@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp('clips')
    return dict(
        mp4=write_av(str(root / 'street.mp4'), seconds=4.0, fps=4,
                     size=(48, 32)),
        webm=write_av(str(root / 'band.webm'), seconds=3.0, fps=4,
                      size=(32, 48), video_codec='libvpx',
                      audio_codec='libopus'))


def test_ave_with_a_bad_file_beside_a_good_one(tmp_path, capsys, infer,
                                               checkpoint, clips):
    empty = tmp_path / 'broken.mkv'
    empty.touch()
    out = tmp_path / 'out'
    with pytest.raises(SystemExit) as exit_info:
        infer([CONFIGS['ave'], checkpoint['ave'], clips['mp4'], str(empty),
               clips['webm'], '--out-dir', str(out), '--device', 'cpu'])
    assert exit_info.value.code == 1  # some videos failed
    printed = capsys.readouterr().out
    assert f'{clips["mp4"]}: ' in printed and 'event in' in printed
    assert f'{clips["webm"]}: ' in printed
    assert (f'3 video(s): 2 done, 1 failed; 2 with notes (see "notes" in '
            f'their result.json). Outputs: {out}/<video name>/') in printed
    assert f'{empty}: the file is empty (0 bytes)' in printed
    result = json.loads((out / 'street' / 'result.json').read_text())
    assert len(result['seconds']) == 4
    with Image.open(out / 'street' / 'timeline.png') as image:
        assert image.size == timeline_size(4)
    failed = json.loads((out / 'broken' / 'result.json').read_text())
    assert failed['status'] == 'failed'


def test_avs_writes_overlays_and_a_gif(tmp_path, infer, checkpoint, clips):
    summary = infer([CONFIGS['avs'], checkpoint['avs'], clips['webm'],
                     clips['mp4'], '--out-dir', str(tmp_path), '--device',
                     'cpu', '--batch-size', '2'])
    assert summary.done == [clips['webm'], clips['mp4']]
    for name, seconds, size, mask_size in [('band', 3, (256, 384), (32, 48)),
                                           ('street', 4, (384, 256),
                                            (48, 32))]:
        folder = tmp_path / name
        with Image.open(folder / 'overlays.gif') as gif:
            assert gif.n_frames == seconds and gif.size == size
        for second in range(seconds):
            with Image.open(folder / 'masks' / f'{second:02d}.png') as mask:
                assert mask.size == mask_size


def test_avqa_prints_the_answer(tmp_path, capsys, infer, checkpoint, clips):
    infer([CONFIGS['avqa'], checkpoint['avqa'], clips['webm'], clips['mp4'],
           '--question', 'How many instruments are sounding?', '--topk',
           '2', '--out-dir', str(tmp_path), '--device', 'cpu'])
    printed = capsys.readouterr().out
    result = json.loads((tmp_path / 'band' / 'result.json').read_text())
    assert result['answer'] in ('two', 'yes', 'no', 'one')
    assert len(result['topk']) == 2 and result['unknown_words'] == []
    assert (f'{clips["webm"]}: "How many instruments are sounding?" -> '
            f'{result["answer"]} ({result["probability"]:.0%}); top 2: '
            in printed)
    with Image.open(tmp_path / 'street' / 'frames.png') as image:
        assert image.size == strip_size()


@pytest.mark.parametrize('task,ckpt_task,extra,message', [
    ('avs', 'ave', [], 'Cannot start inference: .*does not fit the model'),
    ('avqa', 'avqa', [], 'answers questions: pass --question'),
    ('ave', 'ave', ['--question', 'Is it?'], 'reads no question'),
])
def test_setup_problems_stop_at_once(infer, checkpoint, clips, task,
                                     ckpt_task, extra, message):
    with pytest.raises(SystemExit, match=message):
        infer([CONFIGS[task], checkpoint[ckpt_task], clips['mp4'],
               '--device', 'cpu'] + extra)
