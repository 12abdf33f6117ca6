"""Breaks test predictions down the way each task's metric cannot.

Reads the file ``tools/test.py CONFIG CKPT --out FILE.pkl`` writes and,
depending on the task the predictions come from, draws

* AVE: the segment confusion matrix (rows: ground truth, % of the row);
* MUSIC-AVQA: accuracy per question type, modality group and overall;
* AVSBench: histograms of the per-video Jaccard and F-score.

The PNG goes to ``--out`` with the numbers beside it as JSON and CSV.

Example::

    python tools/test.py configs/demo/ave_synthetic.py CKPT --out preds.pkl
    python tools/analysis_tools/analyze_results.py configs/demo/ave_synthetic.py \\
        preds.pkl --checkpoint CKPT --out work_dirs/results
"""
import argparse
import os.path as osp

import numpy as np
from mmengine.config import Config

from molt.analysis.export import write_csv, write_json
from molt.analysis.results import (ave_confusion_matrix, avqa_type_accuracy,
                                   avs_video_scores, detect_task,
                                   load_predictions)
from molt.registry import DATASETS
from molt.utils import register_all_modules
from molt.visualization.plots import (Bar, HeatmapPanel, HistogramPanel,
                                      bar_figure, heatmap_figure,
                                      histogram_figure, save_figure)

# Longer class names are shortened on the axes (the JSON keeps them whole).
MAX_LABEL = 24


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the config the predictions were '
                        'made with (class names, title)')
    parser.add_argument('predictions', help='tools/test.py --out file')
    parser.add_argument('--checkpoint',
                        help='the checkpoint the predictions came from, '
                        'named in the title')
    parser.add_argument('--all-classes', action='store_true',
                        help='AVE: show all classes, not only those that '
                        'occur in the labels or predictions')
    parser.add_argument('--out', required=True, help='output folder')
    return parser.parse_args(argv)


def source_line(args, records) -> str:
    """Second title line: config, checkpoint (or predictions file)."""
    weights = (f'checkpoint {osp.basename(args.checkpoint)}'
               if args.checkpoint else
               f'predictions {osp.basename(args.predictions)}')
    return f'{osp.basename(args.config)}, {weights}; {len(records)} samples'


def ave_class_names(cfg: Config) -> list:
    """Event classes of the config's test dataset, then background."""
    dataset_cfg = cfg.test_dataloader.dataset
    metainfo = dict(DATASETS.get(dataset_cfg.type).METAINFO)
    metainfo.update(dataset_cfg.get('metainfo') or {})
    return list(metainfo['classes']) + [metainfo.get('background',
                                                     'background')]


def short(name: str) -> str:
    return name if len(name) <= MAX_LABEL else name[:MAX_LABEL - 1] + '…'


def analyze_ave(cfg, records, args) -> dict:
    names = ave_class_names(cfg)
    counts = ave_confusion_matrix(records, len(names))
    shown = list(range(len(names))) if args.all_classes else [
        i for i in range(len(names))
        if counts[i].sum() or counts[:, i].sum()
    ]
    rows = counts[np.ix_(shown, shown)].astype(float)
    percent = 100 * rows / np.maximum(rows.sum(1, keepdims=True), 1)
    labels = [short(names[i]) for i in shown]
    accuracy = 100 * np.trace(counts) / counts.sum()
    size = max(6.0, 0.45 * len(shown) + 3.5)
    panel = HeatmapPanel(
        percent, labels, labels, xlabel='predicted', ylabel='ground truth',
        vmin=0, vmax=100, cmap='Blues', colorbar_label='% of the row',
        fmt='{:.0f}')
    title = (f'AVE segment confusion matrix ({len(shown)} of {len(names)} '
             f'classes occur; accuracy {accuracy:.2f} %)\n'
             f'{source_line(args, records)}, {int(counts.sum())} segments')
    png = save_figure(
        heatmap_figure([panel], title, panel_size=(size + 1.5, size)),
        osp.join(args.out, 'ave_confusion_matrix.png'))
    write_csv(['ground truth \\ predicted'] + names,
              [[names[i]] + counts[i].tolist() for i in range(len(names))],
              osp.join(args.out, 'ave_confusion_matrix.csv'))
    recall = np.diag(counts) / np.maximum(counts.sum(1), 1)
    data = dict(task='ave', classes=names, counts=counts,
                shown=[names[i] for i in shown],
                accuracy=accuracy, segments=int(counts.sum()),
                per_class_recall={
                    names[i]: 100 * recall[i]
                    for i in range(len(names)) if counts[i].sum()
                })
    return dict(png=png, data=data, json='ave_confusion_matrix.json')


def analyze_avqa(cfg, records, args) -> dict:
    rows = avqa_type_accuracy(records)
    bars = [
        Bar(row['name'], row['accuracy'],
            f"{row['accuracy']:.1f}\nn={row['questions']}",
            'question type' if row['level'] == 'type' else row['level'])
        for row in rows
    ]
    overall = rows[-1]['accuracy']
    title = (f'MUSIC-AVQA accuracy per question type (overall '
             f'{overall:.2f} %)\n{source_line(args, records)}')
    png = save_figure(bar_figure(bars, title, 'accuracy (%)', ylim=(0, 115)),
                      osp.join(args.out, 'avqa_type_accuracy.png'))
    write_csv(['name', 'level', 'accuracy', 'questions'],
              [[r['name'], r['level'], r['accuracy'], r['questions']]
               for r in rows], osp.join(args.out, 'avqa_type_accuracy.csv'))
    return dict(png=png, data=dict(task='avqa', rows=rows),
                json='avqa_type_accuracy.json')


def analyze_avs(cfg, records, args) -> dict:
    scores = avs_video_scores(records)
    jaccard = [s['jaccard'] for s in scores]
    fscore = [s['fscore'] for s in scores if s['fscore'] is not None]
    bins = np.linspace(0, 100, 21)
    skipped = len(scores) - len(fscore)
    panels = [
        HistogramPanel(jaccard, bins, title=f'Jaccard ({len(jaccard)} '
                       'videos)', xlabel='Jaccard per video (%)',
                       ylabel='videos'),
        HistogramPanel(fscore, bins, title=f'F-score ({len(fscore)} videos'
                       + (f', {skipped} without foreground left out)'
                          if skipped else ')'),
                       xlabel='F-score per video (%)', ylabel='videos'),
    ]
    title = (f'AVSBench per-video scores (means = avs/jaccard, avs/fscore)'
             f'\n{source_line(args, records)}')
    png = save_figure(histogram_figure(panels, title),
                      osp.join(args.out, 'avs_video_scores.png'))
    write_csv(['video_id', 'jaccard', 'fscore'],
              [[s['video_id'], s['jaccard'], s['fscore']] for s in scores],
              osp.join(args.out, 'avs_video_scores.csv'))
    data = dict(task='avs', videos=scores,
                mean_jaccard=float(np.mean(jaccard)),
                mean_fscore=float(np.mean(fscore)) if fscore else None)
    return dict(png=png, data=data, json='avs_video_scores.json')


ANALYSES = dict(ave=analyze_ave, avqa=analyze_avqa, avs=analyze_avs)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    records = load_predictions(args.predictions)
    task = detect_task(records, args.predictions)
    result = ANALYSES[task](cfg, records, args)
    data = dict(config=args.config, checkpoint=args.checkpoint,
                predictions=args.predictions, **result['data'])
    path = write_json(data, osp.join(args.out, result['json']))
    print(f'{task}: {result["png"]}\nnumbers: {path} (and .csv)')
    return data


if __name__ == '__main__':
    main()
