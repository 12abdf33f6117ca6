"""count_params.py and the per-component counts, molt's way and the
papers' way."""
import pytest

from molt.utils.params import (count_parameters, paper_count,
                               peer_backbone_extras, strip_pretrained)
from molt_testing import REPO, load_script


def test_counts_add_up(build_tiny_model):
    model = build_tiny_model()
    rows = count_parameters(model)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    assert rows['total'] == (trainable, total)
    assert rows['visual backbone'][0] == 0
    assert rows['visual backbone'][1] == sum(
        p.numel() for p in model.visual_backbone.parameters())
    assert rows['adapter'][0] == rows['adapter'][1] > 0
    norms = sum(p.numel() for name in ('visual', 'audio')
                for p in getattr(model, f'{name}_token_norm').parameters())
    assert rows['fusion'][1] == norms + sum(
        p.numel() for name in ('visual', 'audio')
        for p in getattr(model, f'{name}_fusion').parameters())


def test_shared_backbone_is_counted_once(build_tiny_model):
    model = build_tiny_model(
        audio_backbone=None,
        audio_frontend=dict(type='KaldiFbank', num_mel_bins=32,
                            num_frames=32))
    rows = count_parameters(model)
    assert rows['audio backbone'] == (0, 0)
    assert rows['total'][1] == sum(p.numel() for p in model.parameters())
    # The peers' extras of the one Swin-V2 are counted once too.
    assert paper_count(model)['extra'] == 128 * 21841 + 21841


def test_paper_count_on_a_toy_model(build_tiny_model, tiny_htsat_cfg):
    """Tiny Swin-V2 (128 features) + tiny HTS-AT (128 features, 128 px
    image, n_fft 256, 16 mels), extras computed by hand from the peers'
    module definitions."""
    model = build_tiny_model(audio_backbone=dict(tiny_htsat_cfg,
                                                 spec_size=128))
    swin_head = 128 * 21841 + 21841  # ImageNet-22k classifier
    # tscam_conv: 527 kernels of 128 x (SF=128//8//4//4=1) x 3, + bias.
    tscam_conv = 527 * 128 * 1 * 3 + 527
    sed_linear = 527 * 527 + 527
    stft = 2 * (256 // 2 + 1) * 256  # conv_real + conv_imag, no bias
    mel = (256 // 2 + 1) * 16
    extra = swin_head + tscam_conv + sed_linear + stft + mel
    assert extra == 3366752
    extras = peer_backbone_extras(model.audio_backbone)
    assert sorted(extras) == ['head', 'logmel_extractor',
                              'spectrogram_extractor', 'tscam_conv']
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    head = sum(p.numel() for p in model.head.parameters())
    total = sum(p.numel() for p in model.parameters()) + extra
    counted = paper_count(model)
    assert counted['extra'] == extra
    assert counted['total'] == total
    assert counted['percent'] == pytest.approx(100 * trainable / total)
    assert counted['percent_without_head'] == pytest.approx(
        100 * (trainable - head) / total)


def test_strip_pretrained():
    cfg = dict(a=dict(pretrained='x.pth', b=[dict(pretrained='y')]), c=1)
    assert strip_pretrained(cfg) == dict(
        a=dict(pretrained=None, b=[dict(pretrained=None)]), c=1)


def test_full_size_molt_ave_config_without_checkpoints(capsys):
    """Full width, counted both ways (docs/en/benchmarks.md)."""
    tool = load_script('tools/analysis_tools/count_params.py')
    config = str(REPO / 'configs' / 'molt' / 'ave_swin_htsat.py')
    rows = tool.main([config, '--paper-count'])[config]
    assert rows['visual backbone'] == [0, pytest.approx(195.2e6, rel=1e-3)]
    assert rows['audio backbone'] == [0, pytest.approx(27.53e6, rel=1e-3)]
    # Per-modality TD/CA weights at 1536 / 768, routers, latents, W f.
    assert rows['adapter'][0] == pytest.approx(17.86e6, rel=1e-3)
    assert rows['fusion'][0] == pytest.approx(1.48e6, rel=1e-2)
    paper = rows['paper']
    # timm's 22k classifier (33.57 M) + HTS-AT's SED head and front-end
    # (3.79 M): the backbones as the peers build them, 228.8 + 31.3 M.
    assert paper['extra'] == pytest.approx(37.36e6, rel=1e-3)
    # The paper's AVE row: 6.2 % of 290.3 M, i.e. 18.0 M.
    assert paper['trainable_without_head'] == pytest.approx(18.0e6, rel=0.1)
    assert paper['total'] == pytest.approx(290.3e6, rel=0.1)
    out = capsys.readouterr().out
    assert 'trainable (M)' in out and "the papers' way" in out
