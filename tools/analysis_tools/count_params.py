"""Prints trainable and total parameters per component of a config's model.

Example::

    python tools/analysis_tools/count_params.py configs/molt/ave_swin_htsat.py
    python tools/analysis_tools/count_params.py configs/molt/*.py --paper-count

Backbones are built with random weights (no checkpoint or data needed).
``--paper-count`` adds the papers' way of counting: the percentage of all
parameters, with the backbones as the peers' code builds them (Swin-V2's
ImageNet-22k classifier, HTS-AT's SED head and front-end weights), and the
figure to compare with the paper's row: for DG-SCT/AVMoE/LAVisH the
task's counting loop (with the decoder modules the official code builds
but never runs, for DG-SCT and AVMoE), for MoLT the decoder in the total
but not in the trainable share (docs/en/benchmarks.md).
"""
import argparse
import json

from mmengine.config import Config, DictAction

from molt.registry import MODELS
from molt.utils import register_all_modules
from molt.utils.params import count_parameters, paper_count, strip_pretrained


#: How each counting rule reads (see molt.utils.params.paper_count).
RULES = dict(
    molt="MoLT's rows: decoder in the total, not trainable",
    ave='AVE loop: adapters + decoder trainable',
    avqa="AVQA loop: all but the backbones + Swin-V2's norms trainable",
    avs='AVS loop: all but Swin-V2 trainable')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', nargs='+', help='config file(s)')
    parser.add_argument('--json', help='also write the counts to this file')
    parser.add_argument(
        '--paper-count', action='store_true',
        help='also count as the papers do (percent of all parameters, '
        "backbones with the peers' classifier/SED heads)")
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries')
    return parser.parse_args(argv)


def report(path: str, cfg_options=None, paper: bool = False) -> dict:
    """Counts the model of one config; returns ``{row: [trainable,
    total]}`` in parameters, plus ``'paper'`` (see
    :func:`~molt.utils.params.paper_count`) when ``paper``."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = MODELS.build(strip_pretrained(cfg.model.to_dict()))
    rows = {k: list(v) for k, v in count_parameters(model).items()}
    if paper:
        rows['paper'] = paper_count(model)
    return rows


def format_table(path: str, rows: dict) -> str:
    lines = [
        path, f'  {"component":<16}{"trainable (M)":>15}{"total (M)":>12}'
    ]
    for name, value in rows.items():
        if name != 'paper':
            trainable, total = value
            lines.append(
                f'  {name:<16}{trainable / 1e6:>15.2f}{total / 1e6:>12.2f}')
    if 'paper' in rows:
        paper = rows['paper']
        lines += [
            "  the papers' way (backbones as the peers build them, "
            f'+{paper["extra"] / 1e6:.2f} M frozen):',
            f'    total {paper["total"] / 1e6:.1f} M; trainable '
            f'{paper["trainable"] / 1e6:.2f} M = {paper["percent"]:.1f} %; '
            f'without the head {paper["trainable_without_head"] / 1e6:.2f} '
            f'M = {paper["percent_without_head"]:.1f} %',
            f'    as the paper counts this row ({RULES[paper["rule"]]}): '
            f'total {paper["paper_total"] / 1e6:.1f} M (decoder built, '
            f'never run: +{paper["decoder_extra"] / 1e6:.2f} M); trainable '
            f'{paper["paper_trainable"] / 1e6:.2f} M = '
            f'{paper["paper_percent"]:.1f} %'
        ]
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    results = {}
    for path in args.config:
        results[path] = report(path, args.cfg_options, args.paper_count)
        print(format_table(path, results[path]))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == '__main__':
    main()
