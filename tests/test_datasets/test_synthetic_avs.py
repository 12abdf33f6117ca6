"""The synthetic AVS set: S4 layout, and a mask that only the audio can
pick among the shapes (checked from pixels and sound, not the plan)."""
import json
import os.path as osp

import numpy as np
import pytest

from molt.datasets import AVSBenchDataset
from molt.datasets.synthetic import make_avs_s4
from molt.datasets.synthetic.common import COLORS, TONES
from molt.datasets.transforms import LoadAudio, LoadFrameFiles, LoadMasks


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('avs'))
    make_avs_s4(root, num_videos=dict(train=3, val=2, test=6), frame_size=64)
    return root


def colours_present(frame):
    return {
        k for k, colour in enumerate(COLORS[:3])
        if (np.abs(frame.astype(int) - colour).sum(-1) < 60).sum() > 10
    }


def heard(wave, rate):
    peak = np.argmax(np.abs(np.fft.rfft(wave))) * rate / len(wave)
    return int(np.argmin([abs(peak - t) for t in TONES[:3]]))


def test_layout_protocol_and_audio_picks_the_mask(root):
    with open(osp.join(root, 's4_meta_data.csv')) as f:
        assert f.readline().strip() == 'name,start_time,category,split'
    train = AVSBenchDataset(split='train', data_root=root)
    assert [m is None for m in train.get_data_info(0)['mask_paths']] == [
        False, True, True, True, True]
    test = AVSBenchDataset(split='test', data_root=root)
    assert len(test) == 6
    load = [LoadFrameFiles(), LoadMasks(), LoadAudio(sample_rate=32000)]
    for index in range(len(test)):
        results = dict(test.get_data_info(index))
        for transform in load:
            results = transform(results)
        sounding = heard(results['waveform'], 32000)
        for frame, mask in zip(results['frames'], results['gt_masks']):
            shown = colours_present(frame)
            assert sounding in shown and 2 <= len(shown) <= 3
            # The mask covers exactly the shape whose tone plays.
            assert colours_present(frame * mask[..., None]) == {sounding}


def test_audio_blind_baselines_are_written(root):
    with open(osp.join(root, 'baselines.json')) as f:
        baselines = json.load(f)
    assert set(baselines) == {'union_jaccard', 'union_fscore',
                              'largest_jaccard', 'largest_fscore'}
    assert all(0 < v < 100 for v in baselines.values())
