"""tools/analysis_tools/token_analysis.py on the tiny demo models."""
import csv
import json
import os.path as osp

import pytest
import torch

from molt.datasets.synthetic import make_ave, make_avqa
from molt_testing import (REPO, demo_dataset_meta, load_script,
                          runner_options, write_demo_checkpoint)

AVE = 'configs/demo/ave_synthetic.py'
METTLE = 'configs/demo/ave_synthetic_mettle.py'
AVQA = 'configs/demo/avqa_synthetic.py'
FIGURES = ('router_weights', 'fusion_weights', 'token_similarity')


def run_tool(config, checkpoints, data_root, out, *extra):
    tool = load_script('tools/analysis_tools/token_analysis.py')
    return tool.main(
        [str(REPO / config), *checkpoints, '--num-samples', '3', '--out',
         str(out), *extra, '--work-dir', str(out)] +
        runner_options(data_root, max_epochs=1, batch_size=2))


def read_json(out, name):
    with open(osp.join(out, f'{name}.json')) as f:
        return json.load(f)


def assert_written(out, names):
    for name in names:
        for ext in ('png', 'json', 'csv'):
            assert osp.getsize(osp.join(out, f'{name}.{ext}')) > 0, name


def tensor(values):
    return torch.tensor(values, dtype=torch.float64)


def ones(*shape):
    return torch.ones(*shape, dtype=torch.float64)


@pytest.fixture(scope='module')
def ave_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('ave_synthetic'))
    make_ave(root, num_videos=dict(train=1, val=3, test=1), frame_size=64)
    return root


@pytest.fixture(scope='module')
def two_checkpoints(ave_root, tmp_path_factory):
    """Two checkpoints of the AVE demo (different random adapters) in
    folders named like the runs in docs/en/analysis_tools.md, analysed
    together."""
    root = tmp_path_factory.mktemp('checkpoints')
    paths = []
    for seed, name in enumerate(('tor', 'notor')):
        (root / name).mkdir()
        paths.append(write_demo_checkpoint(
            AVE, str(root / name / 'best.pth'), demo_dataset_meta('ave'),
            seed=seed))
    out = root / 'out'
    runs = run_tool(AVE, paths, ave_root, out)
    return paths, str(out), runs


def test_two_checkpoints_write_every_figure(two_checkpoints):
    paths, out, runs = two_checkpoints
    assert_written(out, FIGURES + ('router_weights_by_class',
                                   'fusion_weights_by_class'))
    assert [run['label'] for run in runs] == ['tor/best.pth',
                                              'notor/best.pth']
    similarity = read_json(out, 'token_similarity')
    assert similarity['checkpoints'] == paths
    assert similarity['num_samples'] == 3
    assert similarity['num_inputs'] == 30  # 3 videos x 10 segments
    first, second = (run['modalities']['visual']
                     for run in similarity['runs'])
    for entry in (first, second):
        matrix = tensor(entry['abs_cosine'])
        assert matrix.shape == (8, 8)  # 2 layers x 4 latent tokens
        torch.testing.assert_close(matrix.diag(),
                                   ones(8))
        assert entry['tor_unweighted'] == pytest.approx(
            sum(map(sum, entry['tor_by_layer'])))
    assert first['abs_cosine'] != second['abs_cosine']
    with open(osp.join(out, 'token_similarity.csv')) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 2 * 4  # checkpoints x modalities x layer pairs
    assert {row['checkpoint'] for row in rows} == {'tor/best.pth',
                                                   'notor/best.pth'}


def test_router_and_fusion_weights_sum_to_one(two_checkpoints):
    _, out, _ = two_checkpoints
    router = read_json(out, 'router_weights')
    for run in router['runs']:
        assert run['columns'] == ['UDA 1', 'UDA 2', 'CDA 1', 'CDA 2']
        for name in ('visual', 'audio'):
            mean = tensor(run['modalities'][name]['mean'])
            assert mean.shape == (2, 4)  # layers x adapters
            torch.testing.assert_close(mean.sum(1),
                                       ones(2))
            assert len(run['samples']) == 3
            for sample in run['samples']:
                torch.testing.assert_close(
                    tensor(sample[name]).sum(1),
                    ones(2))
    fusion = read_json(out, 'fusion_weights')
    for run in fusion['runs']:
        assert run['fusion'] == 'MLPTokenFusion'
        for name in ('visual', 'audio'):
            mean = tensor(run['modalities'][name]['mean'])
            assert mean.shape == (2, 1)  # one weight per layer
            torch.testing.assert_close(mean.sum(0),
                                       ones(1))
            for sample in run['samples']:
                torch.testing.assert_close(
                    tensor(sample[name]).sum(0),
                    ones(1))
            assert not torch.allclose(mean, ones(2, 1) / 2)


def test_per_class_breakdown_covers_every_segment(two_checkpoints):
    _, out, _ = two_checkpoints
    breakdown = read_json(out, 'router_weights_by_class')
    assert breakdown['group_kind'] == 'class'
    router = read_json(out, 'router_weights')
    for run, means in zip(breakdown['runs'], router['runs']):
        groups = run['modalities']['audio']['groups']
        assert list(groups)[-1] == 'background'
        assert sum(g['inputs'] for g in groups.values()) == 30
        # The classes' means, weighted by their segments, give the mean.
        total = sum(g['inputs'] * tensor(g['weights'])
                    for g in groups.values()) / 30
        torch.testing.assert_close(
            total, tensor(means['modalities']['audio']['mean']))
    with open(osp.join(out, 'fusion_weights_by_class.csv')) as f:
        header = next(csv.reader(f))
    assert header == ['checkpoint', 'modality', 'class', 'inputs', 'layer',
                      'token', 'weight']


def test_one_adapter_per_layer_and_average_fusion(ave_root, tmp_path):
    checkpoint = write_demo_checkpoint(METTLE, str(tmp_path / 'mettle.pth'),
                                       demo_dataset_meta('ave'))
    run_tool(METTLE, [checkpoint], ave_root, tmp_path / 'out',
             '--num-samples', '1')
    out = str(tmp_path / 'out')
    assert_written(out, FIGURES)
    # Nothing to break down: one adapter (weight 1), uniform fusion.
    assert not osp.exists(osp.join(out, 'router_weights_by_class.png'))
    assert not osp.exists(osp.join(out, 'fusion_weights_by_class.png'))
    router = read_json(out, 'router_weights')['runs'][0]
    assert router['columns'] == ['UDA 1']
    torch.testing.assert_close(
        tensor(router['modalities']['visual']['mean']),
        ones(8, 1))
    fusion = read_json(out, 'fusion_weights')['runs'][0]
    torch.testing.assert_close(
        tensor(fusion['modalities']['audio']['mean']),
        ones(8, 1) / 8)


def test_question_type_breakdown(tmp_path):
    root = str(tmp_path / 'avqa')
    make_avqa(root, num_videos=dict(train=1, val=1, test=1))
    checkpoint = write_demo_checkpoint(AVQA, str(tmp_path / 'avqa.pth'),
                                       demo_dataset_meta('avqa'))
    out = tmp_path / 'out'
    run_tool(AVQA, [checkpoint], root, out, '--labels', 'random')
    assert_written(str(out), FIGURES + ('router_weights_by_question_type',
                                        'fusion_weights_by_question_type'))
    breakdown = read_json(str(out), 'router_weights_by_question_type')
    assert breakdown['labels'] == ['random']
    with open(osp.join(root, 'avqa-val.json')) as f:
        first_three = json.load(f)[:3]
    groups = breakdown['runs'][0]['modalities']['visual']['groups']
    counted = {name: group['inputs'] // 10 for name, group in groups.items()}
    expected = {}
    for entry in first_three:
        name = '/'.join(json.loads(entry['type']))
        expected[name] = expected.get(name, 0) + 1
    assert counted == expected


def test_a_config_without_molt_adapter_fails_clearly(ave_root, tmp_path):
    checkpoint = str(tmp_path / 'unused.pth')
    with pytest.raises(ValueError, match='not a MoLTAdapter'):
        run_tool('configs/demo/ave_synthetic_lavish.py', [checkpoint],
                 ave_root, tmp_path)


def test_a_missing_checkpoint_fails_before_any_run(ave_root, tmp_path):
    existing = write_demo_checkpoint(AVE, str(tmp_path / 'a.pth'),
                                     demo_dataset_meta('ave'))
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        run_tool(AVE, [existing, str(tmp_path / 'missing.pth')], ave_root,
                 tmp_path)
