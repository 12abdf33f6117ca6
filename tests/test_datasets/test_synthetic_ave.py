"""The synthetic AVE set: official layout, and labels that need both
modalities (checked from the pixels and the sound, not from the plan)."""
import json
import os.path as osp

import numpy as np
import pytest

from molt.datasets import AVEDataset
from molt.datasets.synthetic.common import COLORS, TONES
from molt.datasets.transforms import (LoadAudio, LoadFrames,
                                      SliceAudioSegments)
from molt.datasets.synthetic import make_ave


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('syn'))
    make_ave(root, num_videos=dict(train=6, val=2, test=4), num_classes=4)
    return root


def visual_class(frame):
    """The class whose colour covers most pixels, or -1 for none."""
    counts = [(np.abs(frame.astype(int) - c).sum(-1) < 60).sum()
              for c in COLORS[:4]]
    return int(np.argmax(counts)) if max(counts) > 20 else -1


def audio_class(wave, rate):
    spectrum = np.abs(np.fft.rfft(wave))
    peak = np.argmax(spectrum) * rate / len(wave)
    distances = [abs(peak - t) for t in TONES[:4]]
    return int(np.argmin(distances)) if min(distances) < 20 else -1


def test_layout_and_labels_need_both_modalities(root):
    for name in ('Annotations.txt', 'trainSet.txt', 'valSet.txt',
                 'testSet.txt', 'baselines.json'):
        assert osp.isfile(osp.join(root, name))
    dataset = AVEDataset(ann_file='trainSet.txt', data_root=root)
    assert len(dataset) == 6
    load_frames, load_audio = LoadFrames(), LoadAudio(sample_rate=32000)
    slice_audio = SliceAudioSegments(clip_seconds=1.0)
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        results = slice_audio(load_audio(load_frames(dict(info))))
        category = info['event_label']
        for second, label in enumerate(info['gt_label']):
            seen = visual_class(results['frames'][second])
            heard = audio_class(results['audio'][second], 32000)
            if label == category:
                assert seen == heard == category
            else:
                # Background: exactly one modality shows the category.
                assert (seen == category) != (heard == category)


def test_single_modality_baselines_are_imperfect(root):
    with open(osp.join(root, 'baselines.json')) as f:
        baselines = json.load(f)
    assert set(baselines) == {'majority', 'visual_only', 'audio_only'}
    assert all(0 < v < 100 for v in baselines.values())
