"""The task configs use the paper's decoders and full-width MoLT; the
light heads stay available; every config parses."""
from pathlib import Path

import pytest
from mmengine.config import Config

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
DECODERS = dict(ave='CMBSHead', avqa='STAVQAHead', avs='AVSBenchHead')
LIGHT = dict(ave='AVEHead', avqa='AVQAHead', avs='AVSHead')


def load(name: str) -> Config:
    return Config.fromfile(str(CONFIGS / name))


@pytest.mark.parametrize(
    'name', sorted(str(p.relative_to(CONFIGS))
                   for p in CONFIGS.glob('[!_]*/*.py')))
def test_every_config_parses(name):
    assert load(name).model.type == 'AVModel'


@pytest.mark.parametrize('name', sorted(
    str(p.relative_to(CONFIGS)) for folder in ('molt', 'mettle', 'lavish')
    for p in (CONFIGS / folder).glob('*.py')))
def test_task_configs_use_the_papers_decoders(name):
    task = Path(name).stem.split('_')[0]
    expected = LIGHT if name.endswith('_light.py') else DECODERS
    assert load(name).model.head.type == expected[task]
    # LAVisH with HTS-AT is DG-SCT's code base: no trainable token norm.
    peer_code = name.startswith('lavish/') and 'htsat' in name
    assert load(name).model.token_norm == (None if peer_code else dict(
        type='LN'))


@pytest.mark.parametrize('task', ['ave', 'avqa', 'avs_s4', 'avs_ms3'])
def test_lavish_with_htsat_is_dgscts_adapter_without_guidance(task):
    lavish = load(f'lavish/{task}_swin_htsat.py').model.adapter
    dgsct = load(f'dgsct/{task}_swin_htsat.py').model.adapter
    assert lavish.type == 'DGSCTAdapter' and not lavish.guided_attention
    assert lavish.audio_pooling == 'mean'
    # DG-SCT's per-task settings.
    for key in ('num_latents', 'reduction_factor', 'num_groups', 'use_bn'):
        assert lavish[key] == dgsct[key], key
    shared = load(f'lavish/{task.split("_")[0]}_swin_shared.py'
                  ) if not task.startswith('avs') else None
    if shared is not None:
        assert shared.model.adapter.type == 'LAVisHAdapter'


def test_avmoe_ave_counts_as_the_papers_row():
    # Full self-attention in the uni-modal experts (the paper's AVE row;
    # the public AVE script has it off, configs/avmoe/README.md).
    assert load('avmoe/ave_swin_htsat.py').model.adapter[
        'uni_self_attention'] == 'full'


def test_molt_reads_the_paper_at_full_width():
    adapter = load('molt/ave_swin_htsat.py').model.adapter
    assert adapter.embed_dims is None
    assert adapter.weight_scope == 'modality'
    assert load('molt/ave_swin_htsat.py').model.fusion == dict(
        type='MLPTokenFusion')
    # The AVQA row of the paper matches one weight set per adapter.
    avqa = load('molt/avqa_swin_htsat.py').model.adapter
    assert avqa.weight_scope == 'adapter' and avqa.embed_dims is None


@pytest.mark.parametrize('task', ['ave_swin_htsat', 'avqa_swin_htsat',
                                  'avs_s4_swin_htsat'])
def test_light_variants_swap_only_the_head(task):
    full = load(f'molt/{task}.py')
    light = load(f'molt/{task}_light.py')
    assert light.model.head.type == LIGHT[task.split('_')[0]]
    full.model.pop('head')
    light.model.pop('head')
    assert full.model == light.model


def test_mettle_keeps_narrow_per_block_distillers():
    adapter = load('mettle/ave_swin_htsat.py').model.adapter
    assert (adapter.visual_layers, adapter.num_uda, adapter.num_cda) == (
        'all', 1, 0)
    assert (adapter.embed_dims, adapter.weight_scope) == (64, 'adapter')
