"""tools/analysis_tools/layer_similarity.py on the tiny AVE demo model."""
import contextlib
import io
import json
import os.path as osp

import pytest
import torch

from molt.datasets.synthetic import make_ave
from molt_testing import REPO, load_script, runner_options

DEMO = str(REPO / 'configs' / 'demo' / 'ave_synthetic.py')
METTLE = str(REPO / 'configs' / 'demo' / 'ave_synthetic_mettle.py')


@pytest.fixture(scope='module')
def ave_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('ave_synthetic'))
    make_ave(root, num_videos=dict(train=2, val=3, test=2), frame_size=64)
    return root


def _read(out):
    with open(osp.join(out, 'layer_similarity.json')) as f:
        return json.load(f)


def _options(ave_root, work_dir):
    return ['--work-dir', str(work_dir)] + runner_options(
        ave_root, max_epochs=1, batch_size=2)


@pytest.fixture(scope='module')
def streamed(ave_root, tmp_path_factory):
    """The demo model's blocks over 2 val videos, backbones run."""
    tool = load_script('tools/analysis_tools/layer_similarity.py')
    out = str(tmp_path_factory.mktemp('streamed'))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        tool.main([DEMO, '--split', 'val', '--num-samples', '2', '--out',
                   out, '--suggest', '2'] + _options(ave_root, out))
    return out, printed.getvalue()


def test_streamed_heat_maps_json_and_suggestion(streamed):
    out, printed = streamed
    for name in ('visual', 'audio'):
        assert osp.getsize(osp.join(out, f'layer_similarity_{name}.png')) > 0
    report = _read(out)
    assert report['num_videos'] == 2 and report['split'] == 'val'
    assert report['source'] == 'backbones run on the split'
    for name, entry in report['backbones'].items():
        assert entry['layers'] == list(range(8))
        assert entry['num_inputs'] == 20  # 2 videos x 10 segments
        cka = torch.tensor(entry['cka'])
        assert torch.allclose(cka.diag(), torch.ones(8), atol=1e-9)
        assert torch.allclose(cka, cka.T)
        assert ((cka > 0) & (cka <= 1 + 1e-9)).all()
        # Cosine exists only within a stage (same width): 4 stages x 2x2.
        defined = [[v is not None for v in row] for row in entry['cosine']]
        assert sum(map(sum, defined)) == 16
        picks = [p['layer'] for p in entry['suggestion']]
        assert picks[0] == 7 and len(picks) == 2 and picks[1] in range(4, 7)
    assert 'suggested blocks to adapt' in printed
    assert 'paper default, the last two blocks [6, 7]' in printed


def test_feature_cache_gives_the_streamed_numbers(ave_root, streamed,
                                                  tmp_path):
    # A Mettle-style config taps every block, so its cache can be read;
    # its backbones are the demo's, built from the same seed.
    config = tmp_path / 'mettle_cached.py'
    config.write_text(f"_base_ = ['{METTLE}']\n"
                      "custom_hooks = [dict(type='FeatureCacheHook')]\n")
    options = _options(ave_root, tmp_path / 'work')
    load_script('tools/extract_features.py').main(
        [str(config), '--splits', 'val'] + options)
    out = str(tmp_path / 'cached')
    load_script('tools/analysis_tools/layer_similarity.py').main(
        [str(config), '--num-samples', '2', '--measures', 'cka',
         '--layers', 'mid+late', '--suggest', '2', '--out', out] + options)
    from_cache, from_backbones = _read(out), _read(streamed[0])
    assert from_cache['source'].startswith('feature cache ')
    for name in ('visual', 'audio'):
        a = from_cache['backbones'][name]
        b = from_backbones['backbones'][name]
        assert a['layers'] == [4, 5, 6, 7]
        assert a['num_inputs'] == b['num_inputs'] == 20
        # The cache stores float16: equal up to that rounding.
        for measure in ('cka', 'cka_debiased'):
            assert torch.allclose(torch.tensor(a[measure]),
                                  torch.tensor(b[measure])[4:, 4:],
                                  atol=2e-3)
        # Picks name blocks, not positions in --layers.
        first, second = a['suggestion']
        assert first['layer'] == 7 and second['closest'] == 7
        assert second['layer'] in (4, 5, 6)


def test_checkpoint_weights_are_the_ones_compared(ave_root, streamed,
                                                  tmp_path):
    from mmengine.config import Config

    from molt.registry import MODELS
    from molt.utils import register_all_modules
    register_all_modules()
    torch.manual_seed(1)  # other random backbones than the demo's seed 0
    model = MODELS.build(Config.fromfile(DEMO).model)
    checkpoint = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    out = str(tmp_path / 'out')
    load_script('tools/analysis_tools/layer_similarity.py').main(
        [DEMO, '--checkpoint', checkpoint, '--num-samples', '2',
         '--measures', 'cka', '--out', out] + _options(ave_root, out))
    report, seeded = _read(out), _read(streamed[0])
    assert report['checkpoint'] == checkpoint
    for name in ('visual', 'audio'):
        assert not torch.allclose(
            torch.tensor(report['backbones'][name]['cka']),
            torch.tensor(seeded['backbones'][name]['cka']), atol=1e-3)
