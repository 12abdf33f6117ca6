"""molt.analysis.token_statistics: router/fusion weights and the token
similarity TOR acts on."""
import pytest
import torch
from mmengine.config import Config

from molt.analysis.token_statistics import (BatchReadout, GroupedMean,
                                            TokenStatistics, adapter_labels,
                                            check_molt_config,
                                            fusion_weights, input_groups,
                                            label_names)
from molt.models.losses import TokenOrthogonalityLoss
from molt.registry import MODELS
from molt.structures import AVDataSample
from molt.utils import register_all_modules
from molt_testing import REPO


def layer_tokens(num_layers=3, num=5, tokens=4, dims=8):
    return [torch.randn(num, tokens, dims) for _ in range(num_layers)]


def test_adapter_labels_follow_the_router_order():
    assert adapter_labels(2, 2) == ['UDA 1', 'UDA 2', 'CDA 1', 'CDA 2']
    assert adapter_labels(1, 0) == ['UDA 1']


def test_cosine_matrix_is_what_tor_penalises():
    tokens = layer_tokens()
    cosine = TokenOrthogonalityLoss.cosine_matrix(tokens)
    assert cosine.shape == (5, 12, 12)
    torch.testing.assert_close(cosine.diagonal(dim1=1, dim2=2),
                               torch.ones(5, 12))
    identity = torch.eye(12)
    loss = TokenOrthogonalityLoss(loss_weight=0.3)
    torch.testing.assert_close(
        0.3 * (cosine - identity).square().sum((1, 2)).mean(), loss(tokens))
    # Row l*T + t is token t of layer l.
    a, b = tokens[1][2, 3], tokens[2][2, 0]
    torch.testing.assert_close(cosine[2, 1 * 4 + 3, 2 * 4 + 0],
                               torch.cosine_similarity(a, b, dim=0))


def test_a_token_set_against_itself():
    tokens = layer_tokens(num_layers=1)
    # The same set as two layers.
    cosine = TokenOrthogonalityLoss.cosine_matrix(tokens * 2)
    cross = cosine[:, :4, 4:]
    torch.testing.assert_close(cross, cosine[:, :4, :4])
    torch.testing.assert_close(cross.diagonal(dim1=1, dim2=2),
                               torch.ones(5, 4))


def test_mlp_fusion_weights_are_the_ones_its_forward_uses():
    fusion = MODELS.build(dict(type='MLPTokenFusion', embed_dims=8))
    tokens = layer_tokens()
    alpha = fusion_weights(fusion, tokens)
    assert alpha.shape == (5, 3, 1)
    torch.testing.assert_close(alpha.sum(1), torch.ones(5, 1))
    mixed = (alpha.unsqueeze(-1) * torch.stack(tokens, 1)).sum(1)
    torch.testing.assert_close(mixed, fusion(tokens))


def test_gated_and_average_fusion_weights():
    tokens = layer_tokens()
    avg = MODELS.build(dict(type='AvgTokenFusion'))
    torch.testing.assert_close(fusion_weights(avg, tokens),
                               torch.full((5, 3, 1), 1 / 3))
    gated = MODELS.build(dict(type='GatedTokenFusion', num_layers=3))
    with torch.no_grad():
        gated.gates.copy_(torch.tensor([0.0, 1.0, 2.0]))
    alpha = fusion_weights(gated, tokens)
    torch.testing.assert_close(alpha[:, :, 0],
                               gated.gates.softmax(0).expand(5, 3))
    mixed = (alpha.unsqueeze(-1) * torch.stack(tokens, 1)).sum(1)
    torch.testing.assert_close(mixed, gated(tokens))


def test_grouped_mean():
    values = torch.arange(12.0).view(6, 2)
    groups = ['b', 'a', 'b', 'b', 'a', 'c']
    mean = GroupedMean()
    mean.update(values[:3], groups[:3])
    mean.update(values[3:], groups[3:])
    assert mean.groups == ['b', 'a', 'c']
    assert mean.count() == 6 and mean.count('b') == 3
    torch.testing.assert_close(mean.mean(), values.mean(0).double())
    torch.testing.assert_close(mean.mean('b'),
                               values[[0, 2, 3]].mean(0).double())
    with pytest.raises(ValueError, match="group 'z'"):
        mean.mean('z')


def _ave_sample(labels):
    sample = AVDataSample(metainfo=dict(video_id='v', sample_idx=0))
    sample.gt_label = torch.tensor(labels)
    return sample


def test_input_groups():
    names = label_names(dict(classes=('Bark', 'Cat'),
                             background='background'))
    assert names == ['Bark', 'Cat', 'background']
    samples = [_ave_sample([0, 2]), _ave_sample([1, 1])]
    assert input_groups(samples, 2, names) == (
        'class', ['Bark', 'background', 'Cat', 'Cat'])
    questions = [AVDataSample(metainfo=dict(question_type=t))
                 for t in ('Audio/Counting', 'Visual/Location')]
    assert input_groups(questions, 2, names) == (
        'question_type', ['Audio/Counting'] * 2 + ['Visual/Location'] * 2)
    assert input_groups([AVDataSample()], 2, names) == (None, None)


class _Adapter:
    """What TokenStatistics reads of a MoLTAdapter."""
    num_uda, num_cda = 1, 2

    @staticmethod
    def layers(modality):
        return dict(visual=[6, 7], audio=[2, 3])[modality]


def _readout(steps=2, samples=2, layers=2, tokens=3):
    num = steps * samples
    data_samples = [_ave_sample([i % 3 for i in range(k, k + steps)])
                    for k in range(samples)]
    for index, sample in enumerate(data_samples):
        sample.set_metainfo(dict(sample_idx=index))
    router = torch.randn(num, layers, 3).softmax(-1)
    fusion = torch.randn(num, layers, 1).softmax(1)
    token_sets = {name: layer_tokens(layers, num, tokens)
                  for name in ('visual', 'audio')}
    return BatchReadout(
        tokens=token_sets, router=dict(visual=router, audio=router.flip(-1)),
        fusion=dict(visual=fusion, audio=fusion), data_samples=data_samples,
        steps=steps)


def test_token_statistics_summary():
    statistics = TokenStatistics(_Adapter(), ['Bark', 'Cat', 'background'])
    readouts = [_readout(), _readout()]
    for readout in readouts:
        statistics.add(readout)
    summary = statistics.summary()
    assert summary['adapters'] == ['UDA 1', 'CDA 1', 'CDA 2']
    assert summary['num_samples'] == 4 and summary['num_inputs'] == 8
    assert summary['segments_per_sample'] == 2
    assert summary['group_kind'] == 'class'
    visual = summary['modalities']['visual']
    assert visual['layers'] == [6, 7] and visual['num_tokens'] == 3
    router = torch.cat([r.router['visual'] for r in readouts])
    torch.testing.assert_close(visual['router'], router.mean(0).double())
    torch.testing.assert_close(visual['router'].sum(-1),
                               torch.ones(2, dtype=torch.float64))
    torch.testing.assert_close(visual['fusion'].sum(0),
                               torch.ones(1, dtype=torch.float64))
    # The mean of ||C - I||^2 is TOR without its weight.
    tor = TokenOrthogonalityLoss(loss_weight=1.0)
    expected = sum(tor(r.tokens['visual']) for r in readouts) / 2
    assert visual['tor_unweighted'] == pytest.approx(float(expected))
    assert float(visual['tor_by_layer'].sum()) == pytest.approx(
        visual['tor_unweighted'])
    # Layer pairs: mean |C| over distinct tokens of the two layers.
    cosine = torch.cat([
        TokenOrthogonalityLoss.cosine_matrix(r.tokens['visual'])
        for r in readouts
    ]).abs().mean(0).double()
    assert visual['layer_abs_cosine'][0, 1] == pytest.approx(
        float(cosine[:3, 3:].mean()))
    off_diagonal = cosine[:3, :3][~torch.eye(3, dtype=torch.bool)]
    assert visual['layer_abs_cosine'][0, 0] == pytest.approx(
        float(off_diagonal.mean()))
    # Groups in label order; segments of each class.
    labels = [label for r in readouts for s in r.data_samples
              for label in s.gt_label.tolist()]
    assert list(visual['groups']) == ['Bark', 'Cat', 'background']
    for index, name in enumerate(['Bark', 'Cat', 'background']):
        mask = torch.tensor(labels) == index
        group = visual['groups'][name]
        assert group['inputs'] == int(mask.sum())
        torch.testing.assert_close(group['router'],
                                   router[mask].mean(0).double())
    # Per sample: its segments averaged.
    first = summary['samples'][0]
    assert first['sample_idx'] == 0 and first['video_id'] == 'v'
    torch.testing.assert_close(first['visual_router'],
                               router[:2].mean(0).double())


def test_only_molt_adapters_are_analysed():
    register_all_modules()
    cfg = Config.fromfile(REPO / 'configs/demo/ave_synthetic.py')
    check_molt_config(cfg, 'ave_synthetic.py')
    lavish = Config.fromfile(REPO / 'configs/demo/ave_synthetic_lavish.py')
    with pytest.raises(ValueError, match='LAVisHAdapter.*not a MoLTAdapter'):
        check_molt_config(lavish, 'lavish.py')
    cfg.model.fusion = dict(type='Identity')
    with pytest.raises(ValueError, match="model.fusion is 'Identity'"):
        check_molt_config(cfg, 'ave_synthetic.py')
