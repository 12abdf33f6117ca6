"""Writes a small synthetic dataset in a task's official on-disk layout.

Example::

    python tools/dataset_converters/make_synthetic.py --task ave \
        --out data/ave_synthetic
"""
import argparse
import json

from molt.datasets import synthetic

TASKS = dict(ave=synthetic.make_ave, avs_s4=synthetic.make_avs_s4)
TASKS['avqa'] = synthetic.make_avqa


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--task', required=True, choices=sorted(TASKS))
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--num-videos', type=int, nargs=3, metavar=('TRAIN', 'VAL', 'TEST'),
        help='videos per split (default: the task generator\'s)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    kwargs = dict(seed=args.seed)
    if args.num_videos:
        kwargs['num_videos'] = dict(zip(('train', 'val', 'test'),
                                        args.num_videos))
    result = TASKS[args.task](args.out, **kwargs)
    print(f'Wrote a synthetic {args.task} dataset to {args.out}')
    if result:
        print('Baselines on its test split (%):',
              json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
