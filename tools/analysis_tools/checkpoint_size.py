"""Measures the checkpoint files a config's training writes, adapter-only
(molt) against full (the whole model, as mmengine writes it).

Example::

    python tools/analysis_tools/checkpoint_size.py configs/molt/ave_swin_htsat.py
    python tools/analysis_tools/checkpoint_size.py configs/molt/avqa_swin_htsat.py \\
        --cfg-options model.head.num_answers=42 model.head.vocab_size=95

No checkpoint or data is needed: the model is built with random weights,
and each frozen backbone the config reads from a ``pretrained`` file is
left out of the adapter-only files as training with that file would leave
it out. The files are the dicts ``MoltRunner.save_checkpoint`` writes,
serialised with ``torch.save`` into memory and counted in bytes: an epoch
checkpoint (model, AdamW state after one step, schedulers, message hub,
resume state) and a best (weights-only) file.
"""
import argparse
import io
import json

import torch
from mmengine.config import Config, DictAction
from mmengine.optim import build_optim_wrapper

from molt.engine.random_state import capture_rng_state
from molt.registry import MODELS
from molt.utils import register_all_modules
from molt.utils.checkpoint import model_checkpoint_state
from molt.utils.params import strip_pretrained

MB = 1e6


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', nargs='+', help='config file(s)')
    parser.add_argument('--json', help='also write the sizes to this file')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries')
    return parser.parse_args(argv)


def _serialised_bytes(obj) -> int:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.tell()


def _optimizer_state(model, cfg) -> dict:
    """The optimiser state after one step (AdamW: two moments per trainable
    parameter), as an epoch checkpoint holds it."""
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    for param in model.parameters():
        if param.requires_grad:
            param.grad = torch.zeros_like(param)
    optim_wrapper.step()
    return optim_wrapper.state_dict()


def measure(path: str, cfg_options=None) -> dict:
    """Sizes in bytes: ``{'adapter_only': {'epoch', 'best'}, 'full': {...},
    'left_out': [module names]}``."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model_cfg = cfg.model.to_dict()
    model = MODELS.build(strip_pretrained(model_cfg))
    for name, module in model.named_children():
        pretrained = (model_cfg.get(name) or {}).get('pretrained')
        if pretrained:  # as if the file were there
            module.pretrained = pretrained
    adapter_only = model_checkpoint_state(model)
    full = dict(state_dict=model.state_dict())
    common = dict(meta=dict(cfg=cfg.pretty_text), message_hub={})
    resumable = dict(
        optimizer=_optimizer_state(model, cfg),
        param_schedulers=[],
        resume_state=dict(rng=capture_rng_state(), batch_in_epoch=0,
                          val_pending=False))
    sizes = {}
    for kind, state in (('adapter_only', adapter_only), ('full', full)):
        sizes[kind] = dict(
            best=_serialised_bytes({**common, **state}),
            epoch=_serialised_bytes({**common, **state, **resumable}))
    sizes['left_out'] = sorted(adapter_only['frozen'])
    return sizes


def format_table(path: str, sizes: dict) -> str:
    lines = [
        f'{path} (left out of adapter-only files: '
        f'{", ".join(sizes["left_out"]) or "nothing"})',
        f'  {"file":<14}{"full (MB)":>12}{"adapter-only (MB)":>20}'
    ]
    for kind in ('epoch', 'best'):
        lines.append(f'  {kind + "_*.pth":<14}'
                     f'{sizes["full"][kind] / MB:>12.1f}'
                     f'{sizes["adapter_only"][kind] / MB:>20.1f}')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    results = {}
    for path in args.config:
        results[path] = measure(path, args.cfg_options)
        print(format_table(path, results[path]))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == '__main__':
    main()
