"""How similar the layers of a network are: linear CKA and cosine.

Every measure compares two layers through the same ``n`` examples (here:
backbone inputs, one frame or one audio segment each). A layer is
represented by ``X`` of shape ``(n, p)``: one row per example, the layer's
``N`` output tokens mean-pooled to one ``p``-wide vector.

* **Linear CKA** (Kornblith et al., 2019, Eq. 5 with a linear kernel):
  ``CKA(X, Y) = ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F)`` with
  ``Xc``/``Yc`` centred column-wise. 1 for a layer with itself, invariant to
  orthogonal transforms and isotropic scaling of either side, defined for
  layers of different widths. With few examples relative to the widths it
  is biased upwards (independent random features score well above 0 when
  ``n`` is not much larger than ``p``).
* **Debiased linear CKA**: the same ratio built from the unbiased HSIC
  estimator of Song et al. (2012, Eq. 5), as Nguyen et al. (2021) use, which
  removes that small-sample bias (independent features score ~0). Needs
  ``n > 3``.
* **Mean cosine similarity** of the pooled tokens: the average over
  examples of ``cos(x_i, y_i)``. It only exists for layers of the same width
  (within one Swin stage); other pairs are NaN.

Streaming (:class:`LayerSimilarity`): all three are computed exactly from
running sums over examples, so memory does not grow with ``n``. With the
pooled features of all ``L`` layers concatenated into ``z_i`` of width
``D = sum_l p_l``, it keeps ``sum_i z_i z_i^T`` (``D x D``, i.e. every
layer pair's cross-product ``X_l^T X_m``), ``sum_i z_i`` (``D``),
``sum_i z_i ||x_i^m||^2`` (``D x L``), ``L x L`` sums of squared norms and
of cosines, all in float64: ``8 D^2`` bytes dominate. Swin-V2-L's 24
blocks (``D = 18048``) need 2.6 GB, HTS-AT's 12 (``D = 4416``) 156 MB; the
tiny demo backbones' 8 (``D = 720``) 4 MB. :meth:`LayerSimilarity.compute`
adds a few temporaries of one layer's rows (``p_l x D``, 222 MB for a
1536-wide Swin-V2-L block). The alternative, ``n x n`` Gram
matrices of the examples, would be smaller for a few hundred examples but
grows with ``n`` and needs every example's features at once.
"""
from typing import Dict, List, Optional, Sequence

import torch
from torch import Tensor

__all__ = ['linear_cka', 'debiased_linear_cka', 'mean_cosine',
           'LayerSimilarity', 'MEASURES']

#: The measures :meth:`LayerSimilarity.compute` returns, by name.
MEASURES = ('cka', 'cka_debiased', 'cosine')


def _check_pair(x: Tensor, y: Tensor) -> None:
    if x.dim() != 2 or y.dim() != 2 or x.shape[0] != y.shape[0]:
        raise ValueError('x and y must be (n, p) and (n, q) with the same '
                         f'n, got {tuple(x.shape)} and {tuple(y.shape)}.')


def linear_cka(x: Tensor, y: Tensor) -> float:
    """Linear CKA of two representations of the same examples, in memory.

    Args:
        x: ``(n, p)`` features.
        y: ``(n, q)`` features of the same ``n`` examples.

    Returns:
        CKA in ``[0, 1]``.
    """
    _check_pair(x, y)
    x = x.double() - x.double().mean(0)
    y = y.double() - y.double().mean(0)
    cross = (y.T @ x).square().sum()
    return float(cross / ((x.T @ x).norm() * (y.T @ y).norm()))


def _unbiased_hsic(gram_x: Tensor, gram_y: Tensor) -> Tensor:
    """Song et al.'s unbiased HSIC estimator from two ``(n, n)`` Grams."""
    n = gram_x.shape[0]
    k = gram_x - torch.diag(torch.diag(gram_x))
    l = gram_y - torch.diag(torch.diag(gram_y))  # noqa: E741 (paper's name)
    # 1^T K~ L~ 1 = (K~ 1) . (L~ 1), both Grams being symmetric.
    return ((k * l).sum() + k.sum() * l.sum() / ((n - 1) * (n - 2)) -
            2 / (n - 2) * (k.sum(1) @ l.sum(1))) / (n * (n - 3))


def debiased_linear_cka(x: Tensor, y: Tensor) -> float:
    """Linear CKA from unbiased HSIC estimates, in memory (``n x n`` Grams).

    Args:
        x: ``(n, p)`` features, ``n > 3``.
        y: ``(n, q)`` features of the same examples.

    Returns:
        Debiased CKA (near 0 for independent features; can be slightly
        negative).
    """
    _check_pair(x, y)
    if x.shape[0] < 4:
        raise ValueError(f'Debiased CKA needs at least 4 examples, got '
                         f'{x.shape[0]}.')
    gram_x, gram_y = x.double() @ x.double().T, y.double() @ y.double().T
    norms = _unbiased_hsic(gram_x, gram_x) * _unbiased_hsic(gram_y, gram_y)
    return float(_unbiased_hsic(gram_x, gram_y) / norms.sqrt())


def mean_cosine(x: Tensor, y: Tensor) -> float:
    """Mean over examples of ``cos(x_i, y_i)``; ``x`` and ``y`` ``(n, p)``."""
    if x.shape != y.shape or x.dim() != 2:
        raise ValueError('Cosine similarity needs two (n, p) tensors of the '
                         f'same shape, got {tuple(x.shape)} and '
                         f'{tuple(y.shape)}.')
    return float(torch.nn.functional.cosine_similarity(
        x.double(), y.double(), dim=1).mean())


class LayerSimilarity:
    """Streams the similarity of every pair of ``L`` layers over examples.

    Feed batches of pooled layer features with :meth:`update`; read the
    ``(L, L)`` matrices with :meth:`compute` at any time. The result equals
    :func:`linear_cka`, :func:`debiased_linear_cka` and :func:`mean_cosine`
    on all the examples at once (see the module docstring for the memory).

    Args:
        layer_dims: Width ``p_l`` of each layer's pooled features.
        device: Where the running sums live (e.g. the backbone's device).
    """

    def __init__(self, layer_dims: Sequence[int],
                 device: Optional[torch.device] = None):
        if not layer_dims:
            raise ValueError('LayerSimilarity needs at least one layer.')
        self.layer_dims = [int(d) for d in layer_dims]
        self.offsets = [0]
        for dim in self.layer_dims:
            self.offsets.append(self.offsets[-1] + dim)
        num_layers, total = len(self.layer_dims), self.offsets[-1]
        options = dict(dtype=torch.float64, device=device)
        self.num_examples = 0
        self._cross = torch.zeros(total, total, **options)
        self._sum = torch.zeros(total, **options)
        self._weighted_sum = torch.zeros(total, num_layers, **options)
        self._sq_norm_sum = torch.zeros(num_layers, **options)
        self._sq_norm_cross = torch.zeros(num_layers, num_layers, **options)
        self._cosine_sum = torch.zeros(num_layers, num_layers, **options)
        # Layers of equal width, whose pooled tokens can be compared by
        # cosine: {width: [layer, ...]}.
        self._width_groups: Dict[int, List[int]] = {}
        for index, dim in enumerate(self.layer_dims):
            self._width_groups.setdefault(dim, []).append(index)

    @property
    def num_layers(self) -> int:
        return len(self.layer_dims)

    def _block(self, index: int) -> slice:
        return slice(self.offsets[index], self.offsets[index + 1])

    @torch.no_grad()
    def update(self, features: Sequence[Tensor]) -> None:
        """Adds a batch of examples.

        Args:
            features: One ``(b, p_l)`` tensor per layer, the same ``b``
                examples in the same order.
        """
        if len(features) != self.num_layers:
            raise ValueError(f'Expected features of {self.num_layers} '
                             f'layers, got {len(features)}.')
        for index, (feat, dim) in enumerate(zip(features, self.layer_dims)):
            if feat.dim() != 2 or feat.shape[1] != dim or \
                    feat.shape[0] != features[0].shape[0]:
                raise ValueError(
                    f'Layer {index}: expected ({features[0].shape[0]}, {dim}) '
                    f'pooled features, got {tuple(feat.shape)}.')
        device = self._cross.device
        feats = [f.to(device=device, dtype=torch.float64) for f in features]
        joint = torch.cat(feats, dim=1)  # (b, D)
        sq_norms = torch.stack([f.square().sum(1) for f in feats], dim=1)
        self._cross.addmm_(joint.T, joint)
        self._sum += joint.sum(0)
        self._weighted_sum.addmm_(joint.T, sq_norms)
        self._sq_norm_sum += sq_norms.sum(0)
        self._sq_norm_cross.addmm_(sq_norms.T, sq_norms)
        for layers in self._width_groups.values():
            unit = torch.nn.functional.normalize(
                torch.stack([feats[i] for i in layers], dim=1), dim=2)
            cosines = torch.einsum('bgc,bhc->gh', unit, unit)
            self._cosine_sum[torch.tensor(layers)[:, None],
                             torch.tensor(layers)[None]] += cosines
        self.num_examples += joint.shape[0]

    @torch.no_grad()
    def compute(self) -> Dict[str, Tensor]:
        """The similarity matrices so far.

        Returns:
            ``{'cka', 'cka_debiased', 'cosine'}``, each ``(L, L)`` float64
            on the CPU; ``cka_debiased`` is NaN with fewer than 4 examples,
            ``cosine`` NaN for layers of different widths.
        """
        n = self.num_examples
        if n < 2:
            raise ValueError(f'Layer similarity needs at least 2 examples, '
                             f'got {n}.')
        num_layers = self.num_layers
        centred = torch.zeros(num_layers, num_layers, dtype=torch.float64)
        raw = torch.zeros_like(centred)  # ||X_l^T X_m||_F^2
        sandwich = torch.zeros_like(centred)  # s_l^T X_l^T X_m s_m
        total = self._sum  # s, all layers
        for row in range(num_layers):
            block = self._cross[self._block(row)]  # X_l^T [X_1 ... X_L]
            sums = total[self._block(row)]
            covariance = block - torch.outer(sums, total) / n  # centred
            raw[row] = self._per_layer(block.square().sum(0))
            centred[row] = self._per_layer(covariance.square().sum(0))
            sandwich[row] = self._per_layer((sums @ block) * total)
        cka = centred / torch.outer(centred.diag(), centred.diag()).sqrt()
        return dict(cka=cka, cka_debiased=self._debiased(raw, sandwich),
                    cosine=self._cosine())

    def _per_layer(self, values: Tensor) -> Tensor:
        """Sums a ``(D,)`` vector over each layer's block: ``(L,)``, CPU."""
        return torch.stack([
            values[self._block(i)].sum() for i in range(self.num_layers)
        ]).cpu()

    def _debiased(self, raw: Tensor, sandwich: Tensor) -> Tensor:
        """Debiased CKA from the running sums (Song et al.'s estimator with
        ``K~ = K - diag(K)``, expanded into feature-space sums)."""
        n = self.num_examples
        if n < 4:
            return torch.full_like(raw, float('nan'))
        sq_cross = self._sq_norm_cross.cpu()  # sum_i |x_i^l|^2 |x_i^m|^2
        sq_sum = self._sq_norm_sum.cpu()
        block_sums = self._per_layer(self._sum.square())  # |s_l|^2
        # s_l^T sum_i x_i^l |x_i^m|^2, for every (l, m).
        weighted = torch.stack([
            self._sum[self._block(i)] @ self._weighted_sum[self._block(i)]
            for i in range(self.num_layers)
        ]).cpu()
        trace = raw - sq_cross  # tr(K~ L~)
        ones_k = block_sums - sq_sum  # 1^T K~ 1
        ones_kl = sandwich - weighted - weighted.T + sq_cross  # 1^T K~ L~ 1
        hsic = (trace + torch.outer(ones_k, ones_k) / ((n - 1) * (n - 2)) -
                2 / (n - 2) * ones_kl) / (n * (n - 3))
        return hsic / torch.outer(hsic.diag(), hsic.diag()).sqrt()

    def _cosine(self) -> Tensor:
        cosine = (self._cosine_sum / self.num_examples).cpu()
        same_width = torch.tensor(self.layer_dims)
        same_width = same_width[:, None] == same_width[None]
        return torch.where(same_width, cosine,
                           torch.full_like(cosine, float('nan')))
