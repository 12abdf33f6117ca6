"""Top-level config keys nothing reads are refused, naming the nearest."""
import argparse

import pytest
from mmengine.config import Config

from molt.utils.config import (UnknownConfigKeyError, add_runner_arguments,
                               check_top_level_keys, load_config)
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
        check_top_level_keys(Config.fromfile(str(path)), source=str(path))
