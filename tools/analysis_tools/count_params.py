"""Prints trainable and total parameters per component of a config's model.

Example::

    python tools/analysis_tools/count_params.py configs/molt/ave_swin_htsat.py

Backbones are built with random weights (no checkpoint or data needed).
"""
import argparse
import json

from mmengine.config import Config, DictAction

from molt.registry import MODELS
from molt.utils import register_all_modules
from molt.utils.params import count_parameters, strip_pretrained


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', nargs='+', help='config file(s)')
    parser.add_argument('--json', help='also write the counts to this file')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries')
    return parser.parse_args(argv)


def report(path: str, cfg_options=None) -> dict:
    """Counts the model of one config; returns ``{row: [trainable,
    total]}`` in parameters."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = MODELS.build(strip_pretrained(cfg.model.to_dict()))
    return {k: list(v) for k, v in count_parameters(model).items()}


def format_table(path: str, rows: dict) -> str:
    lines = [path, f'  {"component":<16}{"trainable (M)":>15}{"total (M)":>12}']
    for name, (trainable, total) in rows.items():
        lines.append(f'  {name:<16}{trainable / 1e6:>15.2f}{total / 1e6:>12.2f}')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    results = {}
    for path in args.config:
        results[path] = report(path, args.cfg_options)
        print(format_table(path, results[path]))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == '__main__':
    main()
