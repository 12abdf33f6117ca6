"""Pretrains the demos' tiny Swin-V2 and HTS-AT on the synthetic world.

The demo configs build tiny encoders that are frozen in training. Random
ones do little (timm zero-initialises Swin-V2's residual post-norms, so
each of its blocks returns its input). This tool pretrains both, as
ImageNet and AudioSet pretrain the real ones, on the synthetic pretraining
world of :mod:`molt.datasets.synthetic.pretraining` (objects and sounds with
generic multi-label targets, never a task's labels):

* the visual Swin-V2, with a linear head on each of its last tokens that
  predicts which shapes and colours its cell of the frame shows;
* the audio HTS-AT (``bn0`` and the Swin body), with a linear head on its
  mean last token that predicts which sounds play.

The encoders are exactly the ones ``--config`` builds (its
``model.visual_backbone`` / ``model.audio_backbone``, ``pretrained``
dropped), frames are normalised by its ``model.data_preprocessor``. The
checkpoints have the layouts of the real releases, so they load through the
backbones' ``pretrained=`` argument like Swin-V2-L and HTS-AT do:

* ``tiny_swinv2.pth``: a timm ``SwinTransformerV2`` state dict; the
  pretraining head is its classifier ``head.fc`` (which also tells timm's
  checkpoint filter that the layout is timm's), dropped by molt;
* ``tiny_htsat.ckpt``: HTS-AT's Lightning checkpoint ``{'state_dict':
  {'sed_model.<key>': tensor}}``: the STFT kernels and mel bank, ``bn0``,
  the Swin body in the official layout (patch merging at the end of a
  stage) and the head as ``head``, dropped by molt.

Each file gets a record ``<name>.json`` beside it: the settings it was
built with (including a hash of this tool's and the world's code), its
SHA-256, molt's fingerprint of the loaded backbone and a summary. A file
whose record matches the current settings is not rebuilt (``--force``
rebuilds). Training is deterministic: the same settings give the same
weights, bit for bit, for the same torch build and ``--threads``.

The summary (also in the record) gives the head's mAP on a held-out split,
over all classes and by group (shapes / colours, tones / noises), a linear
probe of every block (ridge regression on mean-pooled tokens, per label
cell for frames; mAP by group) for the random and the pretrained encoder,
and each block's relative update ``|block(x) - x| / |x|`` (0 for an
identity).

Example::

    python tools/pretrain_tiny_encoders.py            # data/pretrained/
    python tools/pretrain_tiny_encoders.py --force    # rebuild

and in a config::

    visual_backbone=dict(..., pretrained='data/pretrained/tiny_swinv2.pth')
    audio_backbone=dict(..., pretrained='data/pretrained/tiny_htsat.ckpt')
"""
import argparse
import hashlib
import json
import math
import os
import os.path as osp
import re
import time
from collections import OrderedDict
from typing import Callable, Dict, List, Tuple

import torch
from mmengine.config import Config
from torch import Tensor, nn
from torch.nn import functional as F
from torch.utils.data import DataLoader
from tqdm import tqdm

import molt.models  # noqa: F401  registers the backbones
from molt.analysis.probes import group_maps, ridge_probe
from molt.datasets.synthetic import common, pretraining
from molt.registry import MODELS
from molt.utils.atomic_io import atomic_save, atomic_write_text
from molt.utils.fingerprint import file_hash
from molt.utils.frozen_state import fingerprint

# encoder -> (config key, output file)
ENCODERS = OrderedDict(
    visual=('visual_backbone', 'tiny_swinv2.pth'),
    audio=('audio_backbone', 'tiny_htsat.ckpt'))
HTSAT_PREFIX = 'sed_model.'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--config', default='configs/demo/ave_synthetic.py',
        help='config whose model.visual_backbone / audio_backbone / '
        'data_preprocessor are pretrained')
    parser.add_argument('--out-dir', default='data/pretrained',
                        help='where the checkpoints and records go')
    parser.add_argument('--encoders', nargs='+', default=list(ENCODERS),
                        choices=list(ENCODERS))
    parser.add_argument('--visual-steps', type=int, default=450,
                        help='optimiser steps of the visual encoder')
    parser.add_argument('--audio-steps', type=int, default=400,
                        help='optimiser steps of the audio encoder')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--lr', type=float, default=3e-3)
    parser.add_argument('--weight-decay', type=float, default=0.05)
    parser.add_argument('--eval-samples', type=int, default=320,
                        help='held-out samples for the head and the probe')
    parser.add_argument('--probe-samples', type=int, default=320,
                        help='samples the linear probe is fitted on')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (the weights may depend on it)')
    parser.add_argument('--workers', type=int, default=1,
                        help='processes drawing the data (0: the main one; '
                        'the weights do not depend on it)')
    parser.add_argument('--force', action='store_true',
                        help='rebuild even when the record matches')
    return parser.parse_args(argv)


# -- what is built ---------------------------------------------------------
def backbone_config(cfg: Config, encoder: str) -> dict:
    """The config's backbone dict without ``pretrained``, as plain JSON."""
    key = ENCODERS[encoder][0]
    backbone = cfg.model.get(key)
    if backbone is None:
        raise KeyError(f'{cfg.filename} has no model.{key} to pretrain.')
    backbone = json.loads(json.dumps(backbone.to_dict()))
    backbone.pop('pretrained', None)
    return backbone


def steps(args: argparse.Namespace, encoder: str) -> int:
    """``--visual-steps`` or ``--audio-steps``."""
    return getattr(args, f'{encoder}_steps')


def recipe(args: argparse.Namespace, cfg: Config, encoder: str) -> dict:
    """Everything the weights depend on, as recorded beside them."""
    code = hashlib.sha256()
    for path in (__file__, pretraining.__file__, common.__file__):
        with open(path, 'rb') as f:
            code.update(f.read())
    preprocessor = None
    if encoder == 'visual':
        if 'data_preprocessor' not in cfg.model:
            raise KeyError(f'{cfg.filename} has no model.data_preprocessor '
                           'to normalise the frames with.')
        preprocessor = cfg.model.data_preprocessor.to_dict()
    settings = dict(
        backbone=backbone_config(cfg, encoder),
        data_preprocessor=preprocessor,
        steps=steps(args, encoder), batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, eval_samples=args.eval_samples,
        probe_samples=args.probe_samples, seed=args.seed,
        threads=args.threads, code_sha256=code.hexdigest())
    return json.loads(json.dumps(settings))


def built_record(path: str, settings: dict) -> dict:
    """The record of ``path`` when it was built with ``settings`` and the
    file is unchanged; otherwise an empty dict."""
    record_path = osp.splitext(path)[0] + '.json'
    if not (osp.isfile(path) and osp.isfile(record_path)):
        return {}
    with open(record_path) as f:
        record = json.load(f)
    if (record.get('settings') != settings
            or record.get('sha256') != file_hash(path)):
        return {}
    return record


# -- data ------------------------------------------------------------------
class Task:
    """Data, inputs and head of one encoder's pretraining.

    Visual: frames ``(B, 3, H, W)`` (normalised), targets ``(B, G*G, K)``
    per last-token cell, logits from each last token. Audio: waveforms
    ``(B, samples)``, targets ``(B, K)``, logits from the mean last token.
    """

    def __init__(self, encoder: str, backbone: nn.Module, cfg: Config,
                 seed: int, workers: int):
        self.encoder, self.workers = encoder, workers
        if encoder == 'visual':
            grid = backbone.encoder.layers[-1].output_resolution
            if grid[0] != grid[1] or len(set(backbone.img_size)) > 1:
                raise ValueError('pretraining needs a square visual encoder, '
                                 f'got input {backbone.img_size}, grid {grid}')
            self.world = pretraining.PretrainingWorld(
                seed, frame_size=backbone.img_size[0], grid=grid[0])
            self.modality = 'frames'
            self.preprocessor = MODELS.build(cfg.model.data_preprocessor)
            self.classes = pretraining.OBJECT_CLASSES
            shapes = len(pretraining.SHAPES)
            self.groups = dict(shapes=slice(0, shapes),
                               colours=slice(shapes, len(self.classes)))
        else:
            if backbone.clip_samples is None:
                raise ValueError('pretraining needs an HTSAT with a fixed '
                                 'clip_seconds.')
            self.world = pretraining.PretrainingWorld(
                seed, sample_rate=backbone.sample_rate,
                clip_seconds=backbone.clip_samples / backbone.sample_rate)
            self.modality = 'clips'
            self.classes = pretraining.SOUND_CLASSES
            tones = len(pretraining.TONE_BANDS)
            self.groups = dict(tones=slice(0, tones),
                               noises=slice(tones, len(self.classes)))
        self.head = nn.Linear(backbone.stage_dims[-1], len(self.classes))

    def batches(self, split: str, size: int, count: int) -> DataLoader:
        """The split's first ``count`` samples in batches, drawn by
        ``workers`` processes (0: this one) in order."""
        return DataLoader(
            pretraining.WorldBatches(self.world, self.modality, split, size,
                                     count),
            batch_size=None, num_workers=self.workers)

    def inputs(self, raw: Tensor) -> Tensor:
        """The encoder's input: frames ``(B, H, W, 3)`` uint8 normalised by
        the config's data preprocessor; waveforms as they are."""
        if self.encoder == 'audio':
            return raw
        frames = raw.permute(0, 3, 1, 2).unsqueeze(1)  # (B, T=1, 3, H, W)
        batch = self.preprocessor(dict(inputs=dict(frames=frames)))
        return batch['inputs']['frames'].squeeze(1)

    def logits(self, last_tokens: Tensor, backbone: nn.Module) -> Tensor:
        """Head logits from the last block's tokens ``(B, N, C)``."""
        tokens = backbone.forward_final_norm(last_tokens)
        if self.encoder == 'audio':
            tokens = tokens.mean(1)
        return self.head(tokens)


# -- training --------------------------------------------------------------
def train(task: Task, backbone: nn.Module, args: argparse.Namespace) -> float:
    """AdamW with a linear warm-up and cosine decay; returns the last
    loss."""
    backbone.requires_grad_(True)
    if task.encoder == 'audio':
        backbone.bn0.train()  # bn0 learns its statistics, as in HTS-AT
    params = list(backbone.named_parameters()) + [
        (f'head.{n}', p) for n, p in task.head.named_parameters()]
    # Weight decay on the matrices, as timm does (not on norms, biases and
    # the relative position bias tables).
    decays = [p.ndim >= 2 and 'relative_position_bias_table' not in n
              for n, p in params]
    optimizer = torch.optim.AdamW([
        dict(params=[p for (_, p), d in zip(params, decays) if d],
             weight_decay=args.weight_decay),
        dict(params=[p for (_, p), d in zip(params, decays) if not d],
             weight_decay=0.)
    ], lr=args.lr)
    total = steps(args, task.encoder)
    warmup = max(1, total // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (0.1 + 0.9 * s / warmup) if s < warmup else
        0.5 * (1 + math.cos(math.pi * (s - warmup) / max(1, total - warmup))))
    loss = torch.zeros(())
    batches = task.batches('train', args.batch_size, total * args.batch_size)
    with tqdm(batches, desc=f'pretraining {task.encoder}',
              mininterval=1.0) as bar:
        for raw, targets in bar:
            logits = task.logits(backbone(task.inputs(raw))[0], backbone)
            loss = F.binary_cross_entropy_with_logits(logits, targets)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_([p for _, p in params], 5.0)
            optimizer.step()
            schedule.step()
            bar.set_postfix(loss=f'{loss.item():.4f}')
    backbone.requires_grad_(False)
    backbone.eval()
    return loss.item()


# -- evaluation ------------------------------------------------------------
@torch.no_grad()
def read_blocks(task: Task, backbone: nn.Module,
                samples: List[Tuple[Tensor, Tensor]]
                ) -> Tuple[List[Tensor], Tensor, Tensor, List[float]]:
    """Runs batches of samples ``(raw inputs, targets)`` through every
    block.

    Returns:
        Per block the pooled tokens (visual: per label cell,
        ``(count * G * G, C)``; audio: ``(count, C)``), the head's logits
        and the targets (same rows), and per block the mean relative
        update ``|block(x) - x| / |x|``.
    """
    features = [[] for _ in range(backbone.num_layers)]
    updates = torch.zeros(backbone.num_layers)
    logits, targets, seen = [], [], 0
    for raw, labels in samples:
        seen += len(labels)
        x = backbone.forward_stem(task.inputs(raw))
        for index in range(backbone.num_layers):
            if backbone.opens_stage(index):
                stage = backbone.layer_stages[index]
                x = backbone.forward_downsample(x, stage)
            y = backbone.forward_block(x, index)
            updates[index] += ((y - x).flatten(1).norm(dim=1) /
                               x.flatten(1).norm(dim=1)).sum()
            x = y
            if task.encoder == 'visual':
                cells = F.adaptive_avg_pool2d(
                    x.permute(0, 3, 1, 2), task.world.grid)
                features[index].append(cells.flatten(2).transpose(1, 2))
            else:
                features[index].append(x.flatten(1, 2).mean(1))
        logits.append(task.logits(x.flatten(1, 2), backbone))
        targets.append(labels)
    rows = (lambda t: t.flatten(0, 1)) if task.encoder == 'visual' else (
        lambda t: t)
    return ([rows(torch.cat(f)) for f in features], rows(torch.cat(logits)),
            rows(torch.cat(targets)), (updates / seen).tolist())


def assess(task: Task, backbone: nn.Module,
           held_out: Dict[str, list]) -> Dict[str, object]:
    """Head mAP and exact-match accuracy on the ``val`` batches, the probe
    (fitted on the ``probe`` batches) mAP of every block on them, and the
    blocks' relative updates."""
    fit, _, fit_y, _ = read_blocks(task, backbone, held_out['probe'])
    test, logits, test_y, updates = read_blocks(task, backbone,
                                                held_out['val'])
    exact = ((logits > 0) == (test_y > 0)).all(1).float().mean()
    probes = [
        group_maps(ridge_probe(f, fit_y, t), test_y, task.groups)
        for f, t in zip(fit, test)
    ]
    return dict(
        head_map=group_maps(logits.numpy(), test_y, task.groups),
        head_exact_match=100 * float(exact),
        probe_map={name: [p[name] for p in probes] for name in probes[0]},
        block_update=updates)


# -- checkpoint layouts ----------------------------------------------------
def swinv2_checkpoint(backbone: nn.Module, head: nn.Linear) -> dict:
    """A timm SwinTransformerV2 state dict with ``head.fc`` as classifier."""
    state = OrderedDict(backbone.encoder.state_dict())
    state['head.fc.weight'] = head.weight
    state['head.fc.bias'] = head.bias
    return OrderedDict((k, v.detach().clone()) for k, v in state.items())


def htsat_checkpoint(backbone: nn.Module, head: nn.Linear) -> dict:
    """HTS-AT's Lightning layout: ``{'state_dict': {'sed_model.<key>'}}``
    with the official key names (patch merging at the end of a stage)."""
    state = OrderedDict(backbone.frontend.reference_buffers())
    state.update((f'bn0.{k}', v) for k, v in backbone.bn0.state_dict().items())
    for key, value in backbone.encoder.state_dict().items():
        state[re.sub(r'^layers\.(\d+)\.downsample\.',
                     lambda m: f'layers.{int(m.group(1)) - 1}.downsample.',
                     key)] = value
    state.update(('head.' + k, v) for k, v in head.state_dict().items())
    return dict(state_dict=OrderedDict(
        (HTSAT_PREFIX + k, v.detach().clone()) for k, v in state.items()))


def load_back(path: str, config: dict, trained: nn.Module) -> str:
    """Loads ``path`` through ``pretrained=`` and checks that it gives the
    trained weights; returns molt's fingerprint of the loaded backbone."""
    loaded = MODELS.build(dict(config, pretrained=path))
    loaded.init_weights()
    expected, actual = trained.state_dict(), loaded.state_dict()
    differing = [k for k in expected if not torch.equal(expected[k],
                                                        actual[k])]
    if differing or set(expected) != set(actual):
        raise RuntimeError(f'{path} does not reload the trained weights: '
                           f'{differing[:10]}')
    return fingerprint(loaded)


# -- main ------------------------------------------------------------------
def build(encoder: str, path: str, settings: dict, cfg: Config,
          args: argparse.Namespace) -> dict:
    """Pretrains one encoder, writes its checkpoint and record."""
    started, cpu = time.time(), time.process_time()
    config = settings['backbone']
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(args.seed)
        backbone = MODELS.build(config)
        task = Task(encoder, backbone, cfg, args.seed, args.workers)
        held_out = dict(
            probe=list(task.batches('probe', 64, args.probe_samples)),
            val=list(task.batches('val', 64, args.eval_samples)))
        random_init = assess(task, backbone, held_out)
        last_loss = train(task, backbone, args)
    trained = assess(task, backbone, held_out)
    make = swinv2_checkpoint if encoder == 'visual' else htsat_checkpoint
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    atomic_save(make(backbone, task.head), path)
    record = dict(
        settings=settings, file=osp.basename(path), sha256=file_hash(path),
        fingerprint=load_back(path, config, backbone),
        classes=list(task.classes), seconds=round(time.time() - started, 1),
        cpu_seconds=round(time.process_time() - cpu, 1),
        load_average=[round(x, 2) for x in os.getloadavg()],
        torch=torch.__version__, last_loss=last_loss,
        random_init=random_init, pretrained=trained)
    atomic_write_text(osp.splitext(path)[0] + '.json',
                      json.dumps(record, indent=2) + '\n')
    return record


def summary(encoder: str, path: str, record: dict, skipped: bool) -> str:
    """A few lines on one encoder: time, fingerprint, the head's mAP, the
    probe's mAP by block and the blocks' updates (random -> pretrained)."""
    before, after = record['random_init'], record['pretrained']

    def row(values: List[float], digits: int = 1) -> str:
        return ' '.join(f'{v:.{digits}f}' for v in values)

    state = 'up to date, not rebuilt; built earlier' if skipped else 'built'
    lines = [
        f'{encoder}: {path} ({state} in {record["seconds"]} s, '
        f'{record["cpu_seconds"]} s CPU in the main process, load average '
        f'{record["load_average"]})', f'  fingerprint {record["fingerprint"]}',
        '  head mAP on held-out data: ' + ', '.join(
            f'{name} {value:.1f}' for name, value in after['head_map'].items())
        + f'; exact match {after["head_exact_match"]:.1f} %',
        '  linear probe mAP by block, random -> pretrained encoder:'
    ]
    lines += [
        f'    {name}: {row(before["probe_map"][name])} -> '
        f'{row(after["probe_map"][name])}' for name in after['probe_map']
    ]
    lines.append('  block update |block(x) - x| / |x|: '
                 f'{row(before["block_update"], 2)} -> '
                 f'{row(after["block_update"], 2)}')
    return '\n'.join(lines)


def run(args: argparse.Namespace,
        report: Callable[[str], None] = print) -> Dict[str, dict]:
    """Builds (or finds up to date) every requested encoder; returns the
    records by encoder."""
    cfg = Config.fromfile(args.config)
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    records = {}
    try:
        for encoder in args.encoders:
            path = osp.join(args.out_dir, ENCODERS[encoder][1])
            settings = recipe(args, cfg, encoder)
            record = {} if args.force else built_record(path, settings)
            skipped = bool(record)
            if not skipped:
                record = build(encoder, path, settings, cfg, args)
            records[encoder] = record
            report(summary(encoder, path, record, skipped))
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    return records


def main(argv=None) -> None:
    run(parse_args(argv))


if __name__ == '__main__':
    main()
