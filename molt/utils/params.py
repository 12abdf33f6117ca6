"""Parameter counts per component: molt's way and the papers' way."""
from collections import OrderedDict
from typing import Dict, Iterable, Optional, Tuple

import torch
from timm.layers import ClassifierHead
from torch import nn

from molt.models.backbones import HTSAT, SwinV2
from .peer_decoders import CODEBASE_OF_ADAPTER, TASK_OF_HEAD, decoder_extras

__all__ = [
    'count_parameters', 'paper_count', 'peer_backbone_extras',
    'strip_pretrained'
]

# Top-level children of AVModel, grouped into the rows of the report.
COMPONENTS = (
    ('visual backbone', ('visual_backbone', )),
    ('audio backbone', ('audio_backbone', 'audio_frontend')),
    ('adapter', ('feature_norm', 'adapter')),
    ('fusion', ('visual_fusion', 'audio_fusion', 'visual_token_norm',
                'audio_token_norm')),
    ('head', ('head', )),
)

#: Classes of the classifiers the peers' backbones are built with: timm's
#: ``swinv2_large_window12_192_22k`` (ImageNet-22k) and the official HTS-AT
#: AudioSet model.
IMAGENET_22K_CLASSES = 21841
AUDIOSET_CLASSES = 527


def _numel(params: Iterable[nn.Parameter]) -> int:
    return sum(p.numel() for p in params)


def count_parameters(model: nn.Module) -> 'OrderedDict[str, Tuple[int, int]]':
    """``{component: (trainable, total)}`` plus a ``'total'`` row.

    Components are the model's top-level children grouped as in
    :data:`COMPONENTS`; any other child with parameters gets its own row.
    A module shared by two components (one backbone for both modalities)
    or tied inside one is counted once, under the first.
    """
    children = dict(model.named_children())
    rows = OrderedDict()
    seen = set()
    grouped = set()

    def count(names) -> Tuple[int, int]:
        trainable = total = 0
        for name in names:
            module = children.get(name)
            if module is None:
                continue
            for param in module.parameters():
                if id(param) in seen:
                    continue
                seen.add(id(param))
                total += param.numel()
                trainable += param.numel() if param.requires_grad else 0
        return trainable, total

    for label, names in COMPONENTS:
        grouped.update(names)
        rows[label] = count(names)
    for name in children:
        if name not in grouped:
            extra = count([name])
            if extra[1]:
                rows[name] = extra
    rows['total'] = (sum(t for t, _ in rows.values()),
                     sum(n for _, n in rows.values()))
    return rows


def peer_backbone_extras(backbone: nn.Module) -> Dict[str, nn.Module]:
    """Modules the peers' code (LAVisH, DG-SCT, AVMoE) builds into a
    backbone that molt, a frozen feature reader, does not build, at random
    initialisation (nothing is downloaded).

    * Swin-V2 (timm ``swinv2_large_window12_192_22k``): the ImageNet-22k
      classifier, timm's own :class:`~timm.layers.ClassifierHead` over the
      last stage's features (21,841 classes; 33.6 M for Swin-V2-L).
    * HTS-AT (the official ``HTSAT_Swin_Transformer``): the SED head,
      ``tscam_conv`` (``Conv2d(C, 527, (SF, 3), padding=(0, 1))`` with
      ``SF = spec_size // 2^(stages-1) // patch // freq_ratio``) and
      ``head`` (``Linear(527, 527)``), and torchlibrosa's front-end weights,
      which are parameters there (``requires_grad=False``) and buffers in
      molt: the STFT's ``conv_real``/``conv_imag``
      (``Conv1d(1, n_fft/2+1, n_fft)``, no bias) and the mel bank ``melW``
      (``(n_fft/2+1) x n_mels``). 3.8 M for the AudioSet model.

    Args:
        backbone: A molt backbone.

    Returns:
        ``{name: module}``; empty for other backbones.
    """
    encoder = getattr(backbone, 'encoder', None)
    if isinstance(backbone, SwinV2):
        return {
            'head': ClassifierHead(encoder.num_features, IMAGENET_22K_CLASSES,
                                   input_fmt='NHWC')
        }
    if isinstance(backbone, HTSAT):
        stages = len(encoder.layers)
        patch = encoder.patch_embed.patch_size[0]
        # At least one row for images smaller than the official model's.
        freq_bins = max(
            backbone.spec_size // 2**(stages - 1) // patch //
            backbone.freq_ratio, 1)
        stft_bins = backbone.frontend.n_fft // 2 + 1
        stft = nn.Conv1d(1, stft_bins, backbone.frontend.n_fft, bias=False)
        return {
            'tscam_conv': nn.Conv2d(encoder.num_features, AUDIOSET_CLASSES,
                                    (freq_bins, 3), padding=(0, 1)),
            'head': nn.Linear(AUDIOSET_CLASSES, AUDIOSET_CLASSES),
            'spectrogram_extractor': nn.ModuleDict(
                dict(conv_real=stft, conv_imag=nn.Conv1d(
                    1, stft_bins, backbone.frontend.n_fft, bias=False))),
            'logmel_extractor': nn.ParameterDict(dict(melW=nn.Parameter(
                torch.empty(stft_bins, backbone.frontend.n_mels)))),
        }
    return {}


def _rule(model: nn.Module) -> Tuple[str, Optional[str], Optional[str]]:
    """``(rule, codebase, task)``: ``'molt'`` for MoLT's own rows (and
    Mettle-style, a MoLT configuration; every scheme not in
    :data:`CODEBASE_OF_ADAPTER`), else the task whose peer loop applies
    (``'ave'``, ``'avqa'``, ``'avs'``; ``'molt'`` when the head is none of
    the peers' decoders)."""
    codebase = CODEBASE_OF_ADAPTER.get(
        type(getattr(model, 'adapter', None)).__name__)
    task = TASK_OF_HEAD.get(type(getattr(model, 'head', None)).__name__)
    if codebase is None or task is None:
        return 'molt', codebase, task
    return task, codebase, task


def paper_count(model: nn.Module) -> Dict[str, float]:
    """Counts ``model`` the way the papers' tables do.

    The peers' scripts print ``trainable / all named parameters x 100``
    with the backbones as their code builds them, i.e. with the modules of
    :func:`peer_backbone_extras` (frozen) in the total. What counts as
    trainable differs per task (docs/en/benchmarks.md, "How the peers
    count"):

    * ``'ave'`` (DG-SCT ``AVE/main_trans.py`` 211-273; AVMoE, LAVisH the
      same): the adapters and the decoder;
    * ``'avqa'`` (``AVQA/net_grd_avst/main_avst.py`` 273-312): all but the
      backbones, plus Swin-V2's LayerNorms (names with ``norm``);
    * ``'avs'`` (``avs_scripts/avs_s4/train.py`` 145-169): all but
      Swin-V2, so HTS-AT counts as trainable.

    For DG-SCT's and AVMoE's code bases the decoder's built-but-never-run
    modules (:func:`~molt.utils.peer_decoders.decoder_extras`) are added
    to the total and, as the loops count them, to the trainable figure.
    MoLT's own rows (rule ``'molt'``) count the decoder in the total, not
    in the trainable share (docs/en/paper_reading.md, "How the paper is
    read"), with no decoder extras.

    Args:
        model: An :class:`~molt.models.AVModel`.

    Returns:
        ``extra`` (parameters added to the backbones), ``total`` (molt's
        model with them), ``trainable``, ``trainable_without_head``,
        ``percent``, ``percent_without_head`` (of ``total``); and the
        figures to compare with the paper's row: ``rule``,
        ``decoder_extra``, ``paper_total`` (``total`` + ``decoder_extra``),
        ``paper_trainable`` and ``paper_percent`` (of ``paper_total``).
    """
    rows = count_parameters(model)
    visual = getattr(model, 'visual_backbone', None)
    backbones = {id(m): m for m in (visual,
                                    getattr(model, 'audio_backbone', None))
                 if m is not None}
    extras = {
        key: sum(_numel(module.parameters())
                 for module in peer_backbone_extras(backbone).values())
        for key, backbone in backbones.items()
    }
    extra = sum(extras.values())
    rule, codebase, task = _rule(model)
    with torch.device('meta'):
        decoder_extra = sum(
            _numel(module.parameters())
            for module in decoder_extras(codebase, task).values())
    total = rows['total'][1] + extra
    paper_total = total + decoder_extra
    trainable = rows['total'][0]
    without_head = trainable - rows['head'][0]
    if rule == 'molt':
        paper_trainable = without_head
    elif rule == 'avqa':
        paper_trainable = trainable + decoder_extra + sum(
            p.numel() for name, p in visual.named_parameters()
            if 'norm' in name)
    elif rule == 'avs':
        paper_trainable = paper_total - (_numel(visual.parameters()) +
                                         extras[id(visual)])
    else:
        paper_trainable = trainable + decoder_extra
    return dict(
        extra=extra,
        total=total,
        trainable=trainable,
        trainable_without_head=without_head,
        percent=100.0 * trainable / total,
        percent_without_head=100.0 * without_head / total,
        rule=rule,
        decoder_extra=decoder_extra,
        paper_total=paper_total,
        paper_trainable=paper_trainable,
        paper_percent=100.0 * paper_trainable / paper_total)


def strip_pretrained(cfg: Dict) -> Dict:
    """A copy of a model config with every ``pretrained`` set to None, so
    it builds without checkpoint files."""
    if isinstance(cfg, dict):
        return {
            key: None if key == 'pretrained' else strip_pretrained(value)
            for key, value in cfg.items()
        }
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(strip_pretrained(v) for v in cfg)
    return cfg
