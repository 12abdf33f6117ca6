"""The DG-SCT and AVMoE configs build at full size with the authors'
settings, and their parameter counts are what the adapters' structure
says.

The full-size models are built on the meta device (shapes only, no
memory), except HTS-AT, whose torchaudio front-end computes its filter
bank at construction; it is built once, at full size, and handed to every
model. Run with ``-s`` to see each count, also the papers' way.
"""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from molt.registry import MODELS
from molt.utils.params import count_parameters, paper_count, strip_pretrained

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
SWIN_L, HTSAT = 195.20e6, 27.53e6

# config: (scheme, adapted HTS-AT blocks, cross/uni experts or None)
EXPECTED = {
    'dgsct/ave_swin_htsat.py': ('DGSCTAdapter', 12, None),
    'dgsct/avqa_swin_htsat.py': ('DGSCTAdapter', 12, None),
    'dgsct/avs_s4_swin_htsat.py': ('DGSCTAdapter', 12, None),
    'dgsct/avs_ms3_swin_htsat.py': ('DGSCTAdapter', 12, None),
    'avmoe/ave_swin_htsat.py': ('AVMoEAdapter', 8, (1, 1)),
    'avmoe/avqa_swin_htsat.py': ('AVMoEAdapter', 12, (1, 2)),
    'avmoe/avs_s4_swin_htsat.py': ('AVMoEAdapter', 12, (1, 1)),
    'avmoe/avs_ms3_swin_htsat.py': ('AVMoEAdapter', 8, (2, 2)),
}


class _Prebuilt:
    """A registry type that returns a module built beforehand."""

    def __new__(cls, module):
        return module


@pytest.fixture(scope='module')
def htsat():
    return MODELS.build(dict(type='HTSAT', clip_seconds=10.0))


def _bottleneck(dims, cfg, activation_free=False):
    hidden = dims // cfg['reduction_factor']
    groups = cfg['num_groups']
    bn = 2 * (hidden + dims) if cfg['use_bn'] else 0
    # LN, down conv, up conv, [BN], LN, gate (the ReLU has no parameters)
    return 2 * dims + 2 * dims * hidden // groups + bn + 2 * dims + 1


def _guide(dims, tokens, other_dims, other_tokens):
    return other_tokens * tokens + tokens + other_dims * dims + dims


def dgsct_site(dims, tokens, other_dims, other_tokens, cfg):
    """Parameters of one DGSCTBlockAdapter, from its docstring."""
    half = dims // 2
    channel = 2 * (dims * dims + dims) + (dims * half + half) + (
        half * dims + dims)
    spatial = 2 * (dims * half + half) + half + 1
    return (_guide(dims, tokens, other_dims, other_tokens) +
            cfg['num_latents'] * dims + 1 + channel + spatial +
            _bottleneck(dims, cfg))


def avmoe_site(dims, tokens, other_dims, other_tokens, cfg):
    """Parameters of one AVMoEBlockAdapter, from its docstring."""
    experts = cfg['num_cross_experts'] + cfg['num_uni_experts']
    hidden = [2 * dims, *cfg['router_hidden_dims'], experts]
    router = sum(i * o + o for i, o in zip(hidden[:-1], hidden[1:]))
    cross = cfg['num_latents'] * dims + 1 + _bottleneck(dims, cfg)
    uni = _bottleneck(dims, cfg)
    if cfg['uni_self_attention'] == 'full':
        uni += 4 * dims * dims + 4 * dims
    elif cfg['uni_self_attention'] == 'latent':
        uni += cfg['num_latents'] * dims + 1
    return (_guide(dims, tokens, other_dims, other_tokens) + router +
            cfg['num_cross_experts'] * cross + cfg['num_uni_experts'] * uni)


def build_full_size(name, htsat):
    cfg = Config.fromfile(str(CONFIGS / name))
    model_cfg = strip_pretrained(cfg.model.to_dict())
    audio_cfg = model_cfg['audio_backbone']
    assert audio_cfg['type'] == 'HTSAT' and set(audio_cfg) <= {
        'type', 'clip_seconds', 'pretrained'}, audio_cfg
    model_cfg['audio_backbone'] = dict(type=_Prebuilt, module=htsat)
    if model_cfg['head']['type'] == 'STAVQAHead':
        # The official vocabularies' sizes (docs/en/benchmarks.md).
        model_cfg['head'].update(num_answers=42, vocab_size=95)
    with torch.device('meta'):
        model = MODELS.build(model_cfg)
        counts = paper_count(model)
    return cfg, model, counts


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_full_size_config(name, htsat):
    scheme, num_sites, experts = EXPECTED[name]
    cfg, model, counts = build_full_size(name, htsat)
    adapter_cfg = cfg.model.adapter
    assert type(model.adapter).__name__ == scheme
    assert model.tor_loss is None
    assert len(model.adapter.site_pairs) == num_sites
    if experts is not None:
        assert (adapter_cfg.num_cross_experts,
                adapter_cfg.num_uni_experts) == experts
    rows = count_parameters(model)
    assert rows['visual backbone'] == (0, pytest.approx(SWIN_L, rel=1e-3))
    assert rows['audio backbone'] == (0, pytest.approx(HTSAT, rel=1e-3))
    assert rows['fusion'] == (0, 0)
    # Two adapters per modality and paired block, as the docstrings say.
    site = dgsct_site if scheme == 'DGSCTAdapter' else avmoe_site
    visual, audio = model.adapter.layouts['visual'], model.adapter.layouts[
        'audio']
    expected = 0
    for v, a in model.adapter.site_pairs:
        expected += 2 * site(visual.dims[v], visual.num_tokens[v],
                             audio.dims[a], audio.num_tokens[a], adapter_cfg)
        expected += 2 * site(audio.dims[a], audio.num_tokens[a],
                             visual.dims[v], visual.num_tokens[v], adapter_cfg)
    assert rows['adapter'] == (expected, expected)
    assert rows['total'][0] == rows['adapter'][0] + rows['head'][0]
    print(f'\n{name}: trainable {rows["total"][0] / 1e6:.2f} M (adapter '
          f'{rows["adapter"][0] / 1e6:.2f} M, head {rows["head"][0] / 1e6:.2f}'
          f' M); the papers\' way {counts["percent"]:.1f} % of '
          f'{counts["total"] / 1e6:.1f} M (the MoLT paper\'s rows for this '
          'method were not available to us)')


def test_stage_zero_maps_every_token_of_the_other_modality(htsat):
    """The peers' 1x1 conv over tokens is a full N_o x N map: 4096 HTS-AT
    tokens onto 2304 Swin-V2-L tokens at stage 0."""
    _, model, _ = build_full_size('dgsct/ave_swin_htsat.py', htsat)
    first = model.adapter.adapters['visual'][0][0]
    assert first.guide.token_proj.weight.shape == (2304, 4096)
    assert first.guide.channel_proj.weight.shape == (192, 96)


# The paper's rows (total M, trainable %) that public code reproduces
# (docs/en/paper_reading.md, "Every row: paper vs molt"); the AVMoE AVS row
# is its MS3 script's model.
PAPER_ROWS = {
    'dgsct/ave_swin_htsat.py': (461.3, 43.6),
    'dgsct/avqa_swin_htsat.py': (520.2, 50.0),
    'dgsct/avs_s4_swin_htsat.py': (594.8, 61.5),
    'dgsct/avs_ms3_swin_htsat.py': (594.8, 61.5),
    'avmoe/ave_swin_htsat.py': (404.0, 34.9),
    'avmoe/avqa_swin_htsat.py': (456.6, 42.7),
    'avmoe/avs_ms3_swin_htsat.py': (501.2, 54.4),
    'lavish/ave_swin_htsat.py': (374.9, 30.6),
}


@pytest.mark.parametrize('name', sorted(PAPER_ROWS))
def test_peer_configs_land_on_the_papers_rows(name, htsat):
    """Counted as the paper counts them (paper_count): within 5 % of the
    row's total and trainable share."""
    total, percent = PAPER_ROWS[name]
    _, _, counts = build_full_size(name, htsat)
    assert counts['rule'] == Path(name).stem.split('_')[0]  # the task
    assert counts['paper_total'] == pytest.approx(total * 1e6, rel=0.05)
    assert counts['paper_percent'] == pytest.approx(percent, rel=0.05)
