"""What a MoLT model's router, token fusion and TOR see, over a split.

The numbers behind ``tools/analysis_tools/token_analysis.py`` (the
paper's Fig. 5). The model runs as in testing (:func:`read_batch`); for
every backbone input (a frame with its one-second audio segment) and
modality it gives

* the **router weights** of each selected layer, ``(L, E)`` over the
  layer's ``E = N_UDA + N_CDA`` adapters (UDAs first), as
  :class:`~molt.models.adapters.MoLTAdapter` returns them (a layer with a
  single adapter has weight 1);
* the **fusion weights** ``alpha`` of the layer-wise tokens, ``(L, 1)``:
  :class:`~molt.models.fusions.MLPTokenFusion`'s own
  :meth:`~molt.models.fusions.MLPTokenFusion.weights` (what its forward
  multiplies by), the softmax of :class:`GatedTokenFusion`'s gates, ``1/L``
  for :class:`AvgTokenFusion`;
* the **cosine-similarity matrix** ``C`` ``(L*T, L*T)`` of all layer-wise
  tokens of the modality, computed as
  :class:`~molt.models.losses.TokenOrthogonalityLoss` computes it (which
  penalises ``||C - I||_F^2``; its ``cosine_matrix``).

:class:`TokenStatistics` keeps running sums of these (overall and per
group: the ground-truth AVE class of a segment, the question type of a
MUSIC-AVQA sample), so memory does not grow with the split, plus each
sample's weights averaged over its segments.
"""
from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from torch import Tensor, nn

from molt.evaluation.functional import AVQA_QUESTION_TYPES
from molt.models.adapters import MoLTAdapter
from molt.models.fusions import (AvgTokenFusion, GatedTokenFusion,
                                 MLPTokenFusion)
from molt.models.layers import check_layer_tokens
from molt.models.losses import TokenOrthogonalityLoss
from molt.registry import MODELS
from .layer_features import MODALITIES

__all__ = [
    'adapter_labels', 'check_molt_config', 'fusion_weights',
    'label_names', 'input_groups', 'BatchReadout', 'read_batch', 'GroupedMean',
    'TokenStatistics'
]

#: Fusions whose weights can be read (see :func:`fusion_weights`).
FUSIONS = (MLPTokenFusion, GatedTokenFusion, AvgTokenFusion)
#: Per-input quantities averaged (the weights also per group): router and
#: fusion weights, ``C``, ``|C|`` and ``(C - I)^2``.
QUANTITIES = ('router', 'fusion', 'cosine', 'abs_cosine', 'tor_terms')
#: Metainfo fields that name a sample in the per-sample records.
SAMPLE_KEYS = ('sample_idx', 'video_id', 'question_id', 'question_type')


def adapter_labels(num_uda: int, num_cda: int) -> List[str]:
    """``['UDA 1', ..., 'CDA 1', ...]``: the adapters of a layer in the
    order of the router's outputs (UDAs first)."""
    return ([f'UDA {i + 1}' for i in range(num_uda)] +
            [f'CDA {i + 1}' for i in range(num_cda)])


def check_molt_config(cfg: Config, source: str) -> None:
    """Fails early, before anything is built, unless the config's model has
    a :class:`MoLTAdapter` and a fusion whose weights can be read.

    Args:
        cfg: The full config.
        source: The config's path, for the message.

    Raises:
        ValueError: Naming the adapter or fusion type and what to use.
    """
    model_cfg = cfg.get('model', {})
    adapter = (model_cfg.get('adapter') or {}).get('type')
    fusion = (model_cfg.get('fusion') or {}).get('type', 'MLPTokenFusion')
    if not _builds_a(adapter, MoLTAdapter):
        raise ValueError(
            f'{source}: model.adapter is {adapter!r}, not a MoLTAdapter. '
            'The token analysis reads the router weights and layer-wise '
            'tokens of the MoLT scheme (e.g. configs/demo/ave_synthetic.py, '
            'configs/molt/*, or the Mettle-style configs, which are '
            'MoLTAdapters with one adapter per layer); sequential schemes '
            '(LAVisH, DG-SCT, AVMoE) have no layer-wise tokens.')
    if not _builds_a(fusion, FUSIONS):
        raise ValueError(
            f'{source}: model.fusion is {fusion!r}; the token analysis '
            f'reads the weights of {[c.__name__ for c in FUSIONS]}.')


def _builds_a(type_, classes) -> bool:
    """Whether a config ``type`` (a registered name or a class) builds an
    instance of ``classes``."""
    cls = MODELS.get(type_) if isinstance(type_, str) else type_
    return isinstance(cls, type) and issubclass(cls, classes)


def fusion_weights(fusion: nn.Module, tokens: Sequence[Tensor]) -> Tensor:
    """The weights ``alpha`` a fusion gives the layer-wise tokens.

    Args:
        fusion: One of :data:`FUSIONS`.
        tokens: ``L x (N, T, C)`` layer-wise tokens of one modality.

    Returns:
        ``(N, L, 1)``, summing to 1 over ``L``.
    """
    stacked = check_layer_tokens(tokens, type(fusion).__name__)
    num, layers = stacked.shape[:2]
    if isinstance(fusion, MLPTokenFusion):
        return fusion.weights(stacked).squeeze(-1)
    if isinstance(fusion, GatedTokenFusion):
        gates = fusion.gates.softmax(0).to(stacked.dtype)
        return gates.expand(num, layers).unsqueeze(-1)
    if isinstance(fusion, AvgTokenFusion):
        return stacked.new_full((num, layers, 1), 1 / layers)
    raise ValueError(f'Cannot read the weights of {type(fusion).__name__}; '
                     f'known: {[c.__name__ for c in FUSIONS]}.')


def label_names(metainfo: dict) -> List[str]:
    """Names of a dataset's label indices: its ``classes``, then its
    ``background`` class if it has one (AVE's label 28)."""
    names = list(metainfo.get('classes', ()))
    if metainfo.get('background'):
        names.append(metainfo['background'])
    return names


def input_groups(data_samples: Sequence, steps: int,
                 class_names: Sequence[str]
                 ) -> Tuple[Optional[str], Optional[List[str]]]:
    """The group of every backbone input of a batch.

    * MUSIC-AVQA: the sample's ``question_type``, for each of its segments
      (kind ``'question_type'``);
    * AVE: the ground-truth class of each segment (``gt_label`` ``(T,)``),
      named by ``class_names`` (kind ``'class'``);
    * otherwise (AVSBench): ``(None, None)``.

    Args:
        data_samples: The batch's samples, ``B`` of them.
        steps: Segments per sample ``T``.
        class_names: Names of the label indices (:func:`label_names`).

    Returns:
        The kind and ``B * T`` group names, sample by sample.
    """
    if all('question_type' in sample for sample in data_samples):
        return 'question_type', [
            sample.question_type for sample in data_samples
            for _ in range(steps)
        ]
    if all('gt_label' in sample and sample.gt_label.numel() == steps
           for sample in data_samples):
        return 'class', [
            class_names[i] if i < len(class_names) else f'label {i}'
            for sample in data_samples
            for i in sample.gt_label.view(-1).tolist()
        ]
    return None, None


@dataclass
class BatchReadout:
    """What one batch shows of a model.

    Attributes:
        tokens: Per modality, ``L x (B*T, N_tok, C)`` layer-wise tokens.
        router: Per modality, ``(B*T, L, E)`` router weights.
        fusion: Per modality, ``(B*T, L, 1)`` fusion weights.
        data_samples: The batch's ``B`` samples.
        steps: Segments per sample ``T``.
    """
    tokens: Dict[str, List[Tensor]]
    router: Dict[str, Tensor]
    fusion: Dict[str, Tensor]
    data_samples: list
    steps: int


@torch.no_grad()
def read_batch(model: nn.Module, data_batch: dict) -> BatchReadout:
    """Runs the model's feature extraction on a loader batch, as in testing,
    and reads the adapter's outputs (a forward hook, so nothing of the
    forward pass is repeated here) and the fusions' weights.

    Args:
        model: An :class:`~molt.models.AVModel` with a
            :class:`MoLTAdapter`.
        data_batch: A batch of the split's data loader.
    """
    data = model.data_preprocessor(data_batch, False)
    captured = {}
    handle = model.adapter.register_forward_hook(
        lambda module, args, output: captured.update(output))
    try:
        model.extract_feat(data['inputs'], data['data_samples'])
    finally:
        handle.remove()
    tokens = {name: captured[name] for name in MODALITIES}
    router = {
        name: torch.stack(captured[f'{name}_router'], dim=1).float()
        for name in MODALITIES
    }
    return BatchReadout(
        tokens=tokens,
        router=router,
        fusion={
            name: fusion_weights(getattr(model, f'{name}_fusion'),
                                 tokens[name]).float()
            for name in MODALITIES
        },
        data_samples=data['data_samples'],
        steps=len(router['visual']) // len(data['data_samples']))


class GroupedMean:
    """Running mean of per-input values ``(N, *shape)``, overall and per
    group, in float64."""

    def __init__(self):
        self._sums: Dict[Optional[str], Tensor] = {}
        self._counts: Counter = Counter()

    def _add(self, group: Optional[str], total: Tensor, count: int) -> None:
        if group in self._sums:
            self._sums[group] += total
        else:
            self._sums[group] = total.clone()
        self._counts[group] += count

    def update(self, values: Tensor,
               groups: Optional[Sequence[str]] = None) -> None:
        """Adds ``N`` inputs, with their group names if any."""
        values = values.detach().double().cpu()
        self._add(None, values.sum(0), len(values))
        if groups is not None:
            names = list(groups)
            for group in dict.fromkeys(names):
                mask = torch.tensor([name == group for name in names])
                self._add(group, values[mask].sum(0), int(mask.sum()))

    @property
    def groups(self) -> List[str]:
        """Groups seen, in order of first appearance."""
        return [group for group in self._sums if group is not None]

    def count(self, group: Optional[str] = None) -> int:
        return self._counts[group]

    def mean(self, group: Optional[str] = None) -> Tensor:
        """The mean over all inputs (``group=None``) or a group's."""
        if not self._counts[group]:
            raise ValueError(f'No inputs were added (group {group!r}).')
        return self._sums[group] / self._counts[group]


def _layer_pair_means(matrix: Tensor, num_layers: int) -> Tensor:
    """``(L, L)`` block means of an ``(L*T, L*T)`` token matrix, leaving a
    token's entry with itself out (NaN on the diagonal when ``T = 1``)."""
    tokens = matrix.shape[0] // num_layers
    blocks = matrix.reshape(num_layers, tokens, num_layers, tokens)
    blocks = blocks.permute(0, 2, 1, 3)  # (L, L, T, T)
    means = blocks.mean((2, 3))
    if tokens > 1:
        diagonal = blocks.diagonal(dim1=0, dim2=1).permute(2, 0, 1)
        off = ~torch.eye(tokens, dtype=torch.bool)
        means.diagonal().copy_(diagonal[:, off].mean(1))
    else:
        means.diagonal().fill_(float('nan'))
    return means


class TokenStatistics:
    """Router weights, fusion weights and token similarities of one model
    over a split, accumulated batch by batch.

    Args:
        adapter: The model's :class:`MoLTAdapter` (layers, adapters).
        class_names: Names of the label indices (:func:`label_names`), for
            AVE's per-class breakdown.
    """

    def __init__(self, adapter: MoLTAdapter,
                 class_names: Sequence[str] = ()):
        self.layers = {
            name: list(adapter.layers(name))
            for name in MODALITIES
        }
        self.adapters = adapter_labels(adapter.num_uda, adapter.num_cda)
        self.class_names = list(class_names)
        self.means = {(name, quantity): GroupedMean()
                      for name in MODALITIES for quantity in QUANTITIES}
        self.samples: List[dict] = []
        self.steps: Optional[int] = None
        #: ``'class'``, ``'question_type'`` or None (no breakdown).
        self.group_kind: Optional[str] = None

    def add(self, readout: BatchReadout) -> None:
        """Adds a batch (see :func:`read_batch`)."""
        kind, groups = input_groups(readout.data_samples, readout.steps,
                                    self.class_names)
        if not self.samples:
            self.group_kind = kind
        elif kind != self.group_kind:
            raise ValueError(
                f'The samples changed from {self.group_kind!r} to {kind!r} '
                'groups within the split.')
        self.steps = readout.steps
        per_sample = {}
        for name in MODALITIES:
            for quantity in ('router', 'fusion'):
                values = getattr(readout, quantity)[name]
                self.means[(name, quantity)].update(values, groups)
                per_sample[f'{name}_{quantity}'] = values.unflatten(
                    0, (-1, readout.steps)).mean(1).double().cpu()
            cosine = TokenOrthogonalityLoss.cosine_matrix(
                readout.tokens[name])
            identity = torch.eye(cosine.shape[-1], device=cosine.device)
            for quantity, values in (
                    ('cosine', cosine), ('abs_cosine', cosine.abs()),
                    ('tor_terms', (cosine - identity).square())):
                self.means[(name, quantity)].update(values)
        for index, sample in enumerate(readout.data_samples):
            record = {key: sample.metainfo[key] for key in SAMPLE_KEYS
                      if key in sample.metainfo}
            record.update(
                {key: value[index] for key, value in per_sample.items()})
            self.samples.append(record)

    def summary(self) -> dict:
        """All numbers, as tensors, lists and floats.

        Returns:
            ``adapters`` (labels), ``num_samples``, ``num_inputs``,
            ``segments_per_sample``, ``group_kind``, ``samples`` (one
            record per sample: its metainfo names and
            ``<modality>_router`` ``(L, E)`` / ``<modality>_fusion``
            ``(L, 1)`` averaged over its segments) and ``modalities``,
            per modality: ``layers``, ``num_tokens``, ``router`` ``(L, E)``
            and ``fusion`` ``(L, 1)`` (means over inputs), ``cosine`` and
            ``abs_cosine`` (mean ``C`` and ``|C|``, ``(L*T, L*T)``),
            ``layer_abs_cosine`` ``(L, L)`` (mean ``|C|`` between distinct
            tokens of two layers; NaN within a layer of one token),
            ``tor_by_layer`` ``(L, L)`` and ``tor_unweighted`` (the mean
            of ``||C - I||_F^2``, the TOR loss without its weight, and its
            share from each pair of layers), and ``groups`` (per group in
            display order: ``inputs``, ``router``, ``fusion``).
        """
        if not self.samples:
            raise ValueError('No batches were added.')
        counter = self.means[(MODALITIES[0], 'router')]
        order = self._group_order(counter.groups)
        modalities = {}
        for name in MODALITIES:
            num_layers = len(self.layers[name])
            mean = {quantity: self.means[(name, quantity)].mean()
                    for quantity in QUANTITIES}
            num_tokens = mean['tor_terms'].shape[0] // num_layers
            modalities[name] = dict(
                layers=self.layers[name],
                num_tokens=num_tokens,
                router=mean['router'],
                fusion=mean['fusion'],
                cosine=mean['cosine'],
                abs_cosine=mean['abs_cosine'],
                layer_abs_cosine=_layer_pair_means(mean['abs_cosine'],
                                                   num_layers),
                tor_by_layer=mean['tor_terms'].reshape(
                    num_layers, num_tokens, num_layers,
                    num_tokens).sum((1, 3)),
                tor_unweighted=float(mean['tor_terms'].sum()),
                groups={
                    group: dict(
                        inputs=counter.count(group),
                        router=self.means[(name, 'router')].mean(group),
                        fusion=self.means[(name, 'fusion')].mean(group))
                    for group in order
                })
        return dict(
            adapters=self.adapters,
            num_samples=len(self.samples),
            num_inputs=counter.count(),
            segments_per_sample=self.steps,
            group_kind=self.group_kind,
            modalities=modalities,
            samples=self.samples)

    def _group_order(self, groups: List[str]) -> List[str]:
        """AVE classes in label order, question types in the papers' table
        order, anything else as first seen."""
        known = self.class_names if self.group_kind == 'class' else list(
            AVQA_QUESTION_TYPES)
        rank = {name: i for i, name in enumerate(known)}
        return sorted(groups, key=lambda g: rank.get(g, len(rank)))
