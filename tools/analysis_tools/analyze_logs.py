"""Plots training curves from mmengine's JSON logs (mmpretrain's
``analyze_logs.py`` habits).

One panel per key (and phase: training keys over iterations, validation
metrics over epochs), one line per run. Each argument is a work dir (its
latest run, resumed sessions joined; see
:func:`molt.analysis.training_logs.load_training_log`) or a
``scalars.json`` file. The plotted numbers go to a JSON file beside the
PNG.

Example::

    python tools/analysis_tools/analyze_logs.py plot_curve \\
        work_dirs/ave_synthetic work_dirs/ave_synthetic_mettle \\
        --keys loss acc --out work_dirs/curves.png
"""
import argparse
import glob
import os.path as osp
from molt.analysis.export import write_json
from molt.analysis.training_logs import load_training_log, match_keys
from molt.visualization.plots import (CurvePanel, Series, curve_figure,
                                      save_figure)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    curve = commands.add_parser(
        'plot_curve', help='plot keys of one or more runs')
    curve.add_argument('logs', nargs='+', metavar='WORK_DIR_OR_JSON',
                       help='work dirs or scalars.json files')
    curve.add_argument(
        '--keys', nargs='+', default=['loss'],
        help='keys to plot; exact names (loss, lr, ave/accuracy) or parts '
        'of them (acc)')
    curve.add_argument('--legend', nargs='+',
                       help='one name per run (default: the work dir names)')
    curve.add_argument('--title', help='figure title (default: the runs '
                       'and their configs)')
    curve.add_argument('--out', required=True,
                       help='PNG path; the numbers go to <out>.json')
    return parser.parse_args(argv)


def work_dir_of(log_path: str) -> str:
    """The work dir above ``<work_dir>/<timestamp>/vis_data/x.json``."""
    folder = osp.dirname(osp.abspath(log_path))
    if osp.basename(folder) == 'vis_data':
        return osp.dirname(osp.dirname(folder))
    return folder


def config_name(work_dir: str) -> str:
    """The config tools/train.py copied into the work dir, if one."""
    configs = sorted(glob.glob(osp.join(work_dir, '*.py')))
    return osp.basename(configs[0]) if len(configs) == 1 else ''


def plot_curve(args) -> dict:
    logs = [load_training_log(path) for path in args.logs]
    if args.legend and len(args.legend) != len(logs):
        raise ValueError(f'--legend has {len(args.legend)} names for '
                         f'{len(logs)} runs.')
    work_dirs = [work_dir_of(log.paths[-1]) for log in logs]
    names = args.legend or [osp.basename(d) for d in work_dirs]
    available = {
        phase: list(dict.fromkeys(k for log in logs for k in log.keys(phase)))
        for phase in ('train', 'val')
    }
    panels, data = [], []
    for phase, key in match_keys(available, args.keys):
        series = []
        for name, log in zip(names, logs):
            x, y = log.series(phase, key)
            if x:
                series.append(Series(name, x, y))
        xlabel = logs[0].x_label(phase)
        panels.append(CurvePanel(series, title=f'{key} ({phase})',
                                 xlabel=xlabel, ylabel=key))
        data.append(dict(phase=phase, key=key, x=xlabel, series=[
            dict(run=s.label, x=s.x, y=s.y) for s in series
        ]))
    runs = [
        dict(name=name, logs=log.paths, config=config_name(work_dir))
        for name, log, work_dir in zip(names, logs, work_dirs)
    ]
    title = args.title or 'Training curves: ' + '; '.join(
        f"{run['name']} ({run['config']})" if run['config'] else run['name']
        for run in runs)
    png = save_figure(curve_figure(panels, title), args.out)
    numbers = write_json(dict(runs=runs, panels=data),
                         osp.splitext(args.out)[0] + '.json')
    for run in runs:
        print(f"{run['name']}: {', '.join(run['logs'])}")
    print(f'curves: {png}\nnumbers: {numbers}')
    return dict(runs=runs, panels=data)


def main(argv=None):
    args = parse_args(argv)
    if args.command == 'plot_curve':
        return plot_curve(args)
    raise ValueError(f'Unknown command {args.command!r}.')


if __name__ == '__main__':
    main()
