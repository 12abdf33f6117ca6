"""tools/analysis_tools/benchmark.py on tiny configs (CPU)."""
import json
import signal
import sys

import pytest
import torch

from molt.utils.benchmark import (BenchmarkError, peak_rss_mb,
                                  reset_peak_rss, run_in_child)

from molt_testing import REPO, load_script


def test_cfg_options_change_every_config_measured(tmp_path):
    from mmengine.config import Config
    tool = load_script('tools/analysis_tools/benchmark.py')
    configs = [str(REPO / 'configs' / 'demo' / f'{name}.py')
               for name in ('ave_synthetic', 'ave_synthetic_lavish')]
    assert tool.merged_configs(configs, {}, str(tmp_path)) == {
        c: c for c in configs}
    paths = tool.merged_configs(
        configs, {'model.head.hidden_dims': 7}, str(tmp_path))
    assert list(paths) == configs
    for config, path in paths.items():
        assert path != config and path.startswith(str(tmp_path))
        assert Config.fromfile(path).model.head.hidden_dims == 7
        # The rest of each config is unchanged.
        assert (Config.fromfile(path).model.adapter ==
                Config.fromfile(config).model.adapter)


def test_side_by_side_with_the_floor(tmp_path, capsys):
    tool = load_script('tools/analysis_tools/benchmark.py')
    out = tmp_path / 'bench.json'
    configs = [str(REPO / 'configs' / 'demo' / f'{name}.py')
               for name in ('ave_synthetic', 'ave_synthetic_lavish')]
    tool.main(configs + ['--batch-size', '2', '--segments', '2', '--iters',
                         '1', '--warmup', '0', '--out', str(out)])
    result = json.loads(out.read_text())
    assert result['device'] == 'cpu' and result['batch_size'] == 2
    floor, molt, lavish = result['rows']  # one floor: same backbones
    assert floor['name'].startswith('floor')
    assert floor['trainable_params'] == 0
    for row in (molt, lavish):
        for field in ('trainable_params', 'total_params', 'peak_mem_mb',
                      'median_step_ms', 'samples_per_s', 'mem_ratio',
                      'time_ratio'):
            assert row[field] > 0, field
        assert row['floor'] == floor['name']
        assert row['mem_ratio'] == pytest.approx(
            row['peak_mem_mb'] / floor['peak_mem_mb'])
        assert row['total_params'] == floor['total_params'] + row[
            'trainable_params']
        # CPU: tensors' share = peak resident set less the bare runtime.
        assert row['peak_rss_mb'] > row['runtime_rss_mb'] > 0
        assert row['peak_mem_mb'] == pytest.approx(row['peak_rss_mb'] -
                                                   row['runtime_rss_mb'])
    assert 'x floor' in capsys.readouterr().out


@pytest.mark.skipif(not sys.platform.startswith('linux'),
                    reason='peak reset needs /proc/self/clear_refs')
def test_peak_rss_covers_only_what_follows_a_reset():
    big = torch.ones(64, 2**20)  # 256 MB, touched
    del big
    with_big = peak_rss_mb()
    assert reset_peak_rss()
    small = torch.ones(2**20)  # 4 MB
    after_reset = peak_rss_mb()
    del small
    assert after_reset < with_big - 200


def test_a_measurement_whose_process_dies_is_reported(monkeypatch):
    # What the kernel's out-of-memory killer does to a child.
    with pytest.raises(BenchmarkError, match='killed: probably out of'):
        run_in_child(signal.raise_signal, signal.SIGKILL)
    tool = load_script('tools/analysis_tools/benchmark.py')
    monkeypatch.setattr(
        tool, 'measure_in_child',
        lambda *args: run_in_child(signal.raise_signal, signal.SIGKILL))
    row = tool._measure('some/config.py', 'train', (), None)
    assert 'code -9' in row['error']
    row['name'] = 'some/config'
    assert 'some/config' in tool.format_table([row])
    assert 'failed' in tool.format_table([row])
