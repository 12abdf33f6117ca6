"""Config keys nothing reads are refused, naming the nearest: top-level
keys, and keys inside ``model`` that their classes do not take."""
import argparse

import pytest
from mmengine.config import Config

from molt.utils.config import (UnknownConfigKeyError, add_runner_arguments,
                               check_top_level_keys, load_config)
from molt.utils.config_arguments import (accepted_arguments,
                                         check_constructor_arguments)
from molt_testing import REPO

DEMO = str(REPO / 'configs' / 'demo' / 'ave_synthetic.py')


def _load(*argv):
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    add_runner_arguments(parser)
    return load_config(parser.parse_args(list(argv)))


def test_misspelt_option_names_the_nearest_key():
    with pytest.raises(UnknownConfigKeyError) as error:
        _load(DEMO, '--cfg-options', 'optim_wraper.optimizer.lr=1.0')
    message = str(error.value)
    assert "'optim_wraper'" in message and "'optim_wrapper'" in message
    # Known keys and the config's own variables pass.
    cfg = _load(DEMO, '--cfg-options', 'optim_wrapper.optimizer.lr=1.0',
                'img_size=64', 'load_strict=False')
    assert cfg.optim_wrapper.optimizer.lr == 1.0


def test_misspelt_key_in_a_config_file(tmp_path):
    path = tmp_path / 'typo.py'
    path.write_text(f"_base_ = ['{DEMO}']\n"
                    "optim_wraper = dict(optimizer=dict(lr=1.0))\n")
    with pytest.raises(UnknownConfigKeyError, match="'optim_wrapper'"):
        _load(str(path))


def test_every_shipped_config_passes():
    configs = sorted((REPO / 'configs').rglob('*.py'))
    configs = [p for p in configs if '_base_' not in p.parts]
    assert len(configs) > 40
    for path in configs:
        cfg = Config.fromfile(str(path))
        check_top_level_keys(cfg, source=str(path))
        check_constructor_arguments(cfg, source=str(path))


def test_misspelt_model_argument_names_the_class_and_nearest_key():
    with pytest.raises(UnknownConfigKeyError) as error:
        _load(DEMO, '--cfg-options', 'model.adapter.num_latent=8')
    message = str(error.value)
    assert 'model.adapter.num_latent' in message
    assert 'MoLTAdapter' in message
    assert "Did you mean 'num_latents'?" in message
    # Deeper parts too, including mmseg's and mmengine's classes.
    with pytest.raises(UnknownConfigKeyError, match="'embed_dims'"):
        _load(DEMO, '--cfg-options', 'model.fusion.embed_dim=8')
    cfg = _load(DEMO, '--cfg-options', 'model.adapter.num_latents=8')
    assert cfg.model.adapter.num_latents == 8


def test_arguments_follow_kwargs_to_the_parent_class():
    from mmseg.models.decode_heads import UPerHead

    accepted = accepted_arguments(UPerHead)
    # UPerHead's own argument, and BaseDecodeHead's it passes **kwargs to.
    assert {'pool_scales', 'in_channels', 'channels'} <= set(accepted)
    # A class that ends in a torch module taking anything is not checked.
    assert accepted_arguments(dict) is None
