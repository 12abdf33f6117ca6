"""count_params.py and the per-component counts."""
import pytest

from molt.utils.params import count_parameters, strip_pretrained
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


def test_shared_backbone_is_counted_once(build_tiny_model):
    model = build_tiny_model(
        audio_backbone=None,
        audio_frontend=dict(type='KaldiFbank', num_mel_bins=32,
                            num_frames=32))
    rows = count_parameters(model)
    assert rows['audio backbone'] == (0, 0)
    assert rows['total'][1] == sum(p.numel() for p in model.parameters())


def test_strip_pretrained():
    cfg = dict(a=dict(pretrained='x.pth', b=[dict(pretrained='y')]), c=1)
    assert strip_pretrained(cfg) == dict(
        a=dict(pretrained=None, b=[dict(pretrained=None)]), c=1)


def test_full_size_molt_ave_config_without_checkpoints(capsys):
    tool = load_script('tools/analysis_tools/count_params.py')
    config = str(REPO / 'configs' / 'molt' / 'ave_swin_htsat.py')
    rows = tool.main([config])[config]
    assert rows['visual backbone'] == [0, pytest.approx(195.2e6, rel=1e-3)]
    assert rows['audio backbone'] == [0, pytest.approx(27.53e6, rel=1e-3)]
    # The paper reports 6.2 M trainable for MoLT on AVE.
    assert 5.0e6 < rows['total'][0] < 7.0e6
    assert 'trainable (M)' in capsys.readouterr().out
