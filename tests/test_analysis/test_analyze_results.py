"""tools/analysis_tools/analyze_results.py on tools/test.py --out files."""
import csv
import json
import math
import os.path as osp
import pickle

import pytest
import torch

from molt.evaluation.functional import avs_jaccard, segment_accuracy
from molt.evaluation.metrics import AVSMetric
from molt_testing import REPO, load_script

AVE_CONFIG = str(REPO / 'configs' / 'demo' / 'ave_synthetic.py')
AVQA_CONFIG = str(REPO / 'configs' / 'demo' / 'avqa_synthetic.py')
AVS_CONFIG = str(REPO / 'configs' / 'demo' / 'avs_synthetic.py')
BACKGROUND = 28


def _dump(records, path):
    with open(path, 'wb') as f:
        pickle.dump(records, f)
    return str(path)


def _run(config, records, tmp_path, *extra):
    tool = load_script('tools/analysis_tools/analyze_results.py')
    preds = _dump(records, tmp_path / 'preds.pkl')
    out = str(tmp_path / 'out')
    return tool.main([config, preds, '--out', out, *extra]), out


def test_ave_confusion_matrix(tmp_path):
    gt = torch.tensor([[BACKGROUND] * 3 + [0] * 7, [2] * 10])
    pred = torch.tensor([[BACKGROUND, 0, BACKGROUND] + [0] * 6 + [2],
                         [2] * 8 + [BACKGROUND] * 2])
    records = [dict(video_id=f'-v{i}', gt_label=g, pred_label=p,
                    pred_event_score=torch.rand(10))
               for i, (g, p) in enumerate(zip(gt, pred))]
    data, out = _run(AVE_CONFIG, records, tmp_path, '--checkpoint',
                     'work_dirs/x/best.pth')
    counts = torch.tensor(data['counts'])
    assert counts.shape == (29, 29) and counts.sum() == 20
    assert counts[BACKGROUND, BACKGROUND] == 2 and counts[BACKGROUND, 0] == 1
    assert counts[0, 0] == 6 and counts[0, 2] == 1
    assert counts[2, 2] == 8 and counts[2, BACKGROUND] == 2
    assert data['accuracy'] == pytest.approx(segment_accuracy(pred, gt))
    assert data['shown'] == ['Church bell', 'Bark', 'background']
    assert data['per_class_recall']['Church bell'] == pytest.approx(600 / 7)
    assert osp.getsize(osp.join(out, 'ave_confusion_matrix.png')) > 0
    with open(osp.join(out, 'ave_confusion_matrix.csv')) as f:
        table = list(csv.reader(f))
    assert len(table) == 30 and table[1][:2] == ['Church bell', '6']
    with open(osp.join(out, 'ave_confusion_matrix.json')) as f:
        assert json.load(f)['checkpoint'] == 'work_dirs/x/best.pth'


def test_avqa_accuracy_per_type(tmp_path):
    rows = [('Audio/Counting', 1, 1), ('Audio/Counting', 2, 1),
            ('Visual/Location', 3, 3), ('Audio-Visual/Existential', 0, 0),
            ('Audio-Visual/Existential', 1, 0)]
    records = [dict(question_type=t, pred_answer=torch.tensor(p),
                    gt_answer=torch.tensor(g), video_id='v')
               for t, p, g in rows]
    data, out = _run(AVQA_CONFIG, records, tmp_path)
    by_name = {row['name']: row for row in data['rows']}
    assert by_name['Audio/Counting']['accuracy'] == 50.0
    assert by_name['Audio/Counting']['questions'] == 2
    assert by_name['Visual/Location']['accuracy'] == 100.0
    assert by_name['Audio']['accuracy'] == 50.0
    assert by_name['Audio-Visual']['questions'] == 2
    assert by_name['Overall']['accuracy'] == pytest.approx(60.0)
    assert math.isnan(by_name['Visual/Counting']['accuracy'])
    assert by_name['Visual/Counting']['questions'] == 0
    with open(osp.join(out, 'avqa_type_accuracy.json')) as f:
        stored = {row['name']: row for row in json.load(f)['rows']}
    assert stored['Visual/Counting']['accuracy'] is None  # NaN -> null
    assert osp.getsize(osp.join(out, 'avqa_type_accuracy.png')) > 0


def test_avs_per_video_scores(tmp_path):
    torch.manual_seed(0)
    masks = (torch.rand(3, 5, 16, 16) > 0.6).float()
    masks[2] = 0  # a video without foreground: no F-score
    records = [dict(video_id=f'v{i}', pred_logits=torch.randn(5, 16, 16),
                    gt_masks=masks[i], mask_valid=torch.ones(5))
               for i in range(3)]
    data, out = _run(AVS_CONFIG, records, tmp_path)
    videos = data['videos']
    assert [v['video_id'] for v in videos] == ['v0', 'v1', 'v2']
    assert videos[0]['jaccard'] == pytest.approx(
        100 * avs_jaccard(records[0]['pred_logits'], masks[0]))
    assert videos[2]['fscore'] is None and videos[0]['fscore'] is not None
    metric = AVSMetric()
    metric.process(None, records)
    expected = metric.compute_metrics(metric.results)
    assert data['mean_jaccard'] == pytest.approx(expected['jaccard'])
    assert data['mean_fscore'] == pytest.approx(expected['fscore'])
    with open(osp.join(out, 'avs_video_scores.csv')) as f:
        table = list(csv.reader(f))
    assert table[0] == ['video_id', 'jaccard', 'fscore'] and table[3][2] == ''
    assert osp.getsize(osp.join(out, 'avs_video_scores.png')) > 0


def test_bad_prediction_files(tmp_path):
    tool = load_script('tools/analysis_tools/analyze_results.py')
    wrong = _dump({'not': 'a list'}, tmp_path / 'wrong.pkl')
    with pytest.raises(ValueError, match='tools/test.py --out'):
        tool.main([AVE_CONFIG, wrong, '--out', str(tmp_path)])
    unknown = _dump([dict(pred_score=torch.zeros(3))], tmp_path / 'cls.pkl')
    with pytest.raises(ValueError, match=r"fields \['pred_score'\]"):
        tool.main([AVE_CONFIG, unknown, '--out', str(tmp_path)])
