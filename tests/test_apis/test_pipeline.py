"""The config's test pipeline, fed from a decoded video."""
import pytest
from mmengine.config import Config

from molt.apis import read_video
from molt.apis.pipeline import InferencePipeline, load_decoded
from molt.registry import DATASETS
from molt.utils import register_all_modules
from molt_testing import REPO


def _pipeline(config: str) -> InferencePipeline:
    register_all_modules()
    cfg = Config.fromfile(str(REPO / config))
    return InferencePipeline(
        DATASETS.build(dict(cfg.test_dataloader.dataset, lazy_init=True)))


@pytest.mark.parametrize('config,transforms,length', [
    ('configs/demo/ave_synthetic.py',
     ('ResizeFrames', 'SliceAudioSegments', 'PackAVInputs'), None),
    ('configs/demo/avs_synthetic.py',
     ('ResizeFrames', 'SliceAudioSegments', 'PackAVInputs'), None),
    ('configs/molt/avqa_swin_htsat.py',
     ('ResizeFrames', 'SliceAudioSegments', 'TokenizeQuestion',
      'PackAVInputs'), 14),
])
def test_loaders_and_ground_truth_are_left_out(config, transforms, length):
    pipeline = _pipeline(config)
    assert pipeline.describe() == transforms
    assert pipeline.sample_rate == 32000
    assert pipeline.question_length == length


def test_sample_past_the_end_repeats_the_last_second(videos):
    video = read_video(videos['webm'])  # 3.2 s: seconds 0-3
    results = load_decoded(video, list(range(6)), 32000)
    assert results['num_repeated_frames'] == 2
    assert (results['frames'][5] == video.frame(3)).all()
    packed = _pipeline('configs/demo/ave_synthetic.py')(video, range(6))
    assert tuple(packed['inputs']['frames'].shape) == (6, 3, 64, 64)
    assert tuple(packed['inputs']['audio'].shape) == (6, 32000)
    # SliceAudioSegments repeats the last whole second of audio too.
    assert (packed['inputs']['audio'][4] == packed['inputs']['audio'][5]).all()
