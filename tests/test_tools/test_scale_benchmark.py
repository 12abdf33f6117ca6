"""tools/analysis_tools/scale_benchmark.py at a tiny size."""
import os

import numpy as np

from molt_testing import REPO, load_script

DEMO = str(REPO / 'configs' / 'demo' / 'ave_synthetic.py')


def run(tmp_path, *options):
    tool = load_script('tools/analysis_tools/scale_benchmark.py')
    return tool.main([
        DEMO, '--num-videos', '4', '--device', 'cpu', '--frame-size', '32',
        '--num-workers', '0', '--work-dir',
        str(tmp_path / 'bench'), *options
    ])


def test_extraction_and_cached_training(tmp_path):
    result = run(tmp_path, '--epochs', '2', '--batch-size', '2')
    phases = result['phases']
    assert phases['write']['videos'] == 4
    # The row holds the layout's elements in float16.
    elements = sum(int(np.prod(shape)) for _, shape in result['layout'])
    assert result['row_bytes'] == 2 * elements
    assert result['store_bytes'] == 4 * result['row_bytes']
    fill = phases['fill']
    assert (fill['videos'], fill['segments'], fill['missing_rows']) == (4,
                                                                        40, 0)
    assert fill['segments_per_s'] == fill['segments'] / fill['seconds']
    assert [e['videos'] for e in phases['epochs']['per_epoch']] == [4, 4]
    assert result['end_to_end_s'] == (fill['seconds'] +
                                      phases['epochs']['seconds'])
    assert result['total_s'] > result['end_to_end_s']
    # Without --keep, the synthetic data and the store are removed.
    bench = tmp_path / 'bench'
    assert (bench / 'scale_benchmark.json').is_file()
    assert not (bench / 'data').exists()
    assert not (bench / 'feature_cache').exists()


def test_data_path_from_memory_and_from_disk(tmp_path):
    memory = tmp_path / 'memory'
    memory.mkdir()
    for source, options in (
            ('memory', ['--in-memory', '--memory-dir', str(memory)]),
            ('disk', ['--drop-page-cache'])):
        result = run(tmp_path, '--epochs', '2', '--fill', 'random',
                     '--loader-only', *options)
        epochs = result['phases']['epochs']['per_epoch']
        assert [e['videos'] for e in epochs] == [4, 4]
        assert [e['source'] for e in epochs] == [source, source]
        assert all(e['videos_per_s'] > 0 for e in epochs)
        assert 'segments' not in result['phases']['fill']
    assert os.listdir(memory) == []  # the copy is dropped afterwards
