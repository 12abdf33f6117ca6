"""tools/analysis_tools/benchmark.py on tiny configs (CPU)."""
import json

import pytest

from molt_testing import REPO, load_script


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
    assert 'x floor' in capsys.readouterr().out
