"""A backbone built with ``pretrained=PATH`` refuses to run on random
weights until the file is loaded (``init_weights()``) or a state dict with
all its weights is (a checkpoint of the whole model)."""
import pytest
import torch
from mmengine.runner.checkpoint import load_state_dict

from molt.registry import MODELS


def build(cfg, **kwargs):
    return MODELS.build(dict(cfg, **kwargs))


@pytest.fixture
def swin_weights(tiny_swin_cfg, tmp_path):
    """A SwinV2 with random weights and its timm-layout checkpoint."""
    source = build(tiny_swin_cfg)
    for param in source.parameters():
        param.data.normal_()
    path = tmp_path / 'swin.pth'
    torch.save(source.encoder.state_dict(), path)
    return source, str(path)


def test_forward_and_stepping_refused_until_init_weights(
        tiny_swin_cfg, swin_weights):
    source, path = swin_weights
    model = build(tiny_swin_cfg, pretrained=path)
    x = torch.randn(1, 3, 32, 32)
    with pytest.raises(RuntimeError) as error:
        model(x)
    message = str(error.value)
    assert 'SwinV2' in message and path in message
    assert 'Call init_weights()' in message
    tokens = model.forward_stem(x)
    with pytest.raises(RuntimeError, match='init_weights'):
        model.forward_downsample(tokens, 0)
    with pytest.raises(RuntimeError, match='init_weights'):
        model.forward_block(tokens, 0)
    model.init_weights()
    torch.testing.assert_close(model(x)[0], source(x)[0])


def test_random_weights_on_purpose_run(tiny_swin_cfg, tiny_htsat_cfg):
    build(tiny_swin_cfg)(torch.randn(1, 3, 32, 32))
    build(tiny_htsat_cfg)(torch.randn(1, 16000))


def test_a_full_state_dict_counts_as_loaded(tiny_htsat_cfg, tmp_path):
    source = build(tiny_htsat_cfg)
    for param in source.parameters():
        param.data.normal_()
    # Any existing file: only init_weights() would read it.
    path = tmp_path / 'HTSAT_AudioSet_Saved_1.ckpt'
    path.touch()
    wave = torch.randn(1, 16000)
    partial = build(tiny_htsat_cfg, pretrained=str(path))
    state = source.state_dict()
    state.pop(next(k for k in state if k.startswith('encoder.layers.3')))
    load_state_dict(partial, state)
    with pytest.raises(RuntimeError, match='HTSAT: the pretrained weights'):
        partial(wave)
    model = build(tiny_htsat_cfg, pretrained=str(path))
    load_state_dict(model, source.state_dict())  # mmengine's loader
    torch.testing.assert_close(model(wave)[0], source(wave)[0])


def test_model_built_outside_the_runner(tiny_swin_cfg, swin_weights,
                                        model_cfg, batch):
    _, path = swin_weights
    cfg = model_cfg()
    cfg['visual_backbone'] = dict(tiny_swin_cfg, pretrained=path)
    model = MODELS.build(cfg)
    batch = model.data_preprocessor(batch, False)
    with pytest.raises(RuntimeError, match='Call init_weights'):
        model(**batch, mode='predict')
    model.init_weights()
    assert len(model(**batch, mode='predict')) == 2
    # A checkpoint of the whole model (as tools/test.py loads one).
    restored = MODELS.build(cfg)
    load_state_dict(restored, model.state_dict())
    assert len(restored(**batch, mode='predict')) == 2
