"""Trained-looking checkpoints of the tiny demo models and user videos,
shared by the inference tests (built once per session)."""
import pytest

from molt.datasets import QAVocabulary
from molt_media import write_av
from molt_testing import demo_dataset_meta, write_demo_checkpoint

CONFIGS = dict(
    ave='configs/demo/ave_synthetic.py',
    avs='configs/demo/avs_synthetic.py',
    avqa='configs/demo/avqa_synthetic.py')


@pytest.fixture(scope='session')
def checkpoints(tmp_path_factory):
    """``{task: (config, checkpoint path)}`` of randomly initialised demo
    models."""
    root = tmp_path_factory.mktemp('checkpoints')
    return {
        task: (config,
               write_demo_checkpoint(config, str(root / f'{task}.pth'),
                                     demo_dataset_meta(task)))
        for task, config in CONFIGS.items()
    }


@pytest.fixture(scope='session')
def inferencers(checkpoints):
    """``{task: AVInferencer}`` on the CPU, without progress bars."""
    from molt.apis import AVInferencer
    return {
        task: AVInferencer(config, path, device='cpu', topk=3,
                           show_progress=False)
        for task, (config, path) in checkpoints.items()
    }


@pytest.fixture(scope='session')
def cut_silent_ave(checkpoints):
    """The AVE inferencer reading at most 10 s, hearing silence when a
    video has no audio stream."""
    from molt.apis import AVInferencer
    return AVInferencer(*checkpoints['ave'], device='cpu', max_seconds=10,
                        missing_audio='silence', show_progress=False)


@pytest.fixture(scope='session')
def videos(tmp_path_factory):
    """User videos: an mp4 with AAC audio (5.5 s), an mkv (H.264 + MP3,
    portrait, 6 s) and a webm (VP8 + Opus, 3.2 s)."""
    root = tmp_path_factory.mktemp('videos')
    return dict(
        mp4=write_av(str(root / 'clip.mp4'), seconds=5.5, fps=4,
                     size=(48, 32)),
        mkv=write_av(str(root / 'portrait.mkv'), seconds=6.0, fps=4,
                     size=(32, 48), audio_codec='libmp3lame'),
        webm=write_av(str(root / 'clip.webm'), seconds=3.2, fps=4,
                      size=(48, 32), video_codec='libvpx',
                      audio_codec='libopus'))


@pytest.fixture(scope='session')
def vocabulary():
    """The AVQA checkpoint's vocabulary."""
    return QAVocabulary.from_dict(demo_dataset_meta('avqa')['vocabulary'],
                                  'demo')
