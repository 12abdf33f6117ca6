"""Every adapter scheme's parameters and outputs, pinned on fixed seeds.

``fixtures/pinned_outputs.json`` holds what the schemes gave before the
adapter schemes were moved onto one base class and LAVisH onto the
paired-block driver: each scheme's state dict (so its construction order,
hence the order in which it draws its random initialisation, and its
parameter names stay as they were) and its outputs with open gates (so
every adapter acts), on tiny backbones of unequal depths, widths and token
counts; plus the losses and raw outputs of whole tiny models. A change in
what a scheme builds or computes fails here.

Parameters are pinned by a SHA-256 over their names and bytes: they must
match exactly (torch's CPU generator draws the same numbers everywhere).
Outputs are pinned by their shape and three sums (plain, absolute and
weighted by fixed random weights), which must match to float32 rounding,
since that may differ between CPUs (the refactor itself was checked bit
for bit on one machine).
"""
import hashlib
import json
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest
import torch

from molt.models.adapters import (AVMoEAdapter, DGSCTAdapter, LAVisHAdapter,
                                  MoLTAdapter)
from molt.models.utils import BackboneLayout
from molt.registry import MODELS
from molt.structures import AVDataSample

FIXTURE = Path(__file__).parent / 'fixtures' / 'pinned_outputs.json'

TEMPORAL = dict(visual_fc_dims=16, audio_fc_dims=8, d_model=16, ffn_dims=32,
                num_heads=2, num_layers=1, gate_scale=0.1)


def open_every_gate(module: torch.nn.Module) -> None:
    """Sets every one-element parameter (the zero-initialised gates,
    ``gate_av`` included) to 0.5."""
    with torch.no_grad():
        for param in module.parameters():
            if param.numel() == 1:
                param.fill_(0.5)


def flatten(outputs, prefix: str = '') -> Dict[str, torch.Tensor]:
    """Nested dicts and lists of tensors -> ``{'visual.0': tensor}``."""
    if isinstance(outputs, torch.Tensor):
        return {prefix: outputs.detach().clone()}
    items = (outputs.items() if isinstance(outputs, dict) else
             enumerate(outputs))
    flat = {}
    for key, value in items:
        flat.update(flatten(value, f'{prefix}.{key}' if prefix else str(key)))
    return flat


def unequal_backbones(swin_cfg: dict, htsat_cfg: dict):
    """As the adapter tests' ``unequal_backbones`` fixture: visual 2, 2, 2,
    2 blocks (16..128 wide), audio 1, 1, 2, 1 (8..64 wide)."""
    torch.manual_seed(0)
    visual = MODELS.build(swin_cfg)
    audio = MODELS.build(dict(htsat_cfg, embed_dim=8, depths=(1, 1, 2, 1)))
    return visual, audio


def state_digest(state: Dict[str, torch.Tensor]) -> str:
    """SHA-256 over a state dict's names, shapes and bytes, in order."""
    digest = hashlib.sha256()
    for key, value in state.items():
        digest.update(key.encode())
        digest.update(str(tuple(value.shape)).encode())
        digest.update(value.contiguous().numpy().tobytes())
    return digest.hexdigest()


def fingerprint(tensor: torch.Tensor) -> List[float]:
    """``[sum, sum of |x|, sum of w x]`` in float64, ``w`` drawn from
    U[0, 1) by a generator seeded with 0."""
    values = tensor.detach().double().flatten()
    weights = torch.rand(values.numel(), dtype=torch.float64,
                         generator=torch.Generator().manual_seed(0))
    return [values.sum().item(), values.abs().sum().item(),
            (weights * values).sum().item()]


def pin(state: Optional[Dict[str, torch.Tensor]],
        outputs: Dict[str, torch.Tensor]) -> dict:
    """What the fixture stores of a case."""
    return dict(
        state=None if state is None else state_digest(state),
        outputs={key: [list(value.shape), fingerprint(value)]
                 for key, value in outputs.items()})


def run_scheme(scheme: Callable, swin_cfg: dict, htsat_cfg: dict,
               shared: bool = False, batch: int = 2, **kwargs) -> dict:
    """A scheme's state dict and its outputs (training mode) on fixed
    inputs."""
    visual, audio = unequal_backbones(swin_cfg, htsat_cfg)
    if shared:
        audio = visual
    layouts = BackboneLayout.of(visual), BackboneLayout.of(audio)
    torch.manual_seed(1)
    adapter = scheme(*layouts, **kwargs)
    state = {k: v.clone() for k, v in adapter.state_dict().items()}
    open_every_gate(adapter)
    torch.manual_seed(2)
    frames = torch.randn(batch, 3, 32, 32)
    wave = torch.randn(batch, 3, 32, 32) if shared else torch.randn(
        batch, 16000)
    if adapter.is_parallel:
        outputs = adapter(visual(frames, adapter.layers('visual')),
                          audio(wave, adapter.layers('audio')))
    else:
        outputs = adapter(frames, wave, visual, audio,
                          return_stage_maps=True)
    return pin(state, flatten(outputs))


def run_model(model_cfg: Callable, **kwargs) -> dict:
    """A tiny AVModel's losses (training mode) and raw outputs (eval
    mode) on a fixed AVE-like batch (3 segments, 3 classes)."""
    torch.manual_seed(1)
    model = MODELS.build(
        model_cfg(head=dict(type='AVEHead', num_classes=3, hidden_dims=8),
                  **kwargs))
    open_every_gate(model.adapter)
    torch.manual_seed(2)
    batch = dict(
        inputs=dict(
            frames=[torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8)
                    for _ in range(2)],
            audio=[torch.randn(3, 16000) for _ in range(2)]),
        data_samples=[AVDataSample(gt_label=torch.tensor(labels))
                      for labels in ([0, 3, 3], [2, 2, 1])])
    torch.manual_seed(3)
    losses = model(**model.data_preprocessor(batch, True), mode='loss')
    model.eval()
    with torch.no_grad():
        raw = model(**model.data_preprocessor(batch, False), mode='tensor')
    return pin(None, flatten(dict(losses=losses, raw=raw)))


SCHEMES = dict(
    lavish=lambda s, h: run_scheme(LAVisHAdapter, s, h),
    lavish_shared=lambda s, h: run_scheme(LAVisHAdapter, s, h, shared=True,
                                          reduction_factor=4,
                                          num_latents=3),
    dgsct=lambda s, h: run_scheme(
        DGSCTAdapter, s, h, batch=4, num_latents=2, reduction_factor=2,
        temporal=TEMPORAL, num_segments=2),
    dgsct_tokens=lambda s, h: run_scheme(
        DGSCTAdapter, s, h, num_latents=2, reduction_factor=2,
        use_bn=False, visual_pooling='mean', audio_pooling=None),
    avmoe=lambda s, h: run_scheme(
        AVMoEAdapter, s, h, num_latents=2, reduction_factor=2,
        num_uni_experts=2, uni_self_attention='latent', stages=(0, 2),
        router_noise_std=0.01),
    avmoe_tokens=lambda s, h: run_scheme(
        AVMoEAdapter, s, h, num_latents=2, reduction_factor=2,
        uni_self_attention='full', routing='token', visual_pooling=None,
        final_norm=()),
    molt=lambda s, h: run_scheme(MoLTAdapter, s, h, num_heads=4),
    molt_all_layers=lambda s, h: run_scheme(
        MoLTAdapter, s, h, visual_layers='all', audio_layers='all',
        num_uda=1, num_cda=0, num_heads=4, embed_dims=16),
    molt_adapter_weights=lambda s, h: run_scheme(
        MoLTAdapter, s, h, visual_layers=[3, 7], audio_layers=[1, 4],
        weight_scope='adapter', num_uda=1, num_cda=2, num_latents=3,
        num_heads=4, embed_dims=32),
)

MODELS_PINNED = dict(
    model_molt=lambda cfg: run_model(
        cfg, tor_loss=dict(type='TokenOrthogonalityLoss', loss_weight=0.1)),
    model_mettle=lambda cfg: run_model(
        cfg, adapter=dict(type='MoLTAdapter', visual_layers='all',
                          audio_layers='all', num_uda=1, num_cda=0,
                          embed_dims=16),
        fusion=dict(type='AvgTokenFusion')),
    model_lavish=lambda cfg: run_model(
        cfg, adapter=dict(type='LAVisHAdapter'),
        fusion=dict(type='AvgTokenFusion')),
    model_dgsct=lambda cfg: run_model(
        cfg, adapter=dict(type='DGSCTAdapter', num_latents=2,
                          reduction_factor=2, temporal=TEMPORAL,
                          num_segments=3),
        fusion=dict(type='AvgTokenFusion'), token_norm=None),
    model_avmoe=lambda cfg: run_model(
        cfg, adapter=dict(type='AVMoEAdapter', num_latents=2,
                          reduction_factor=2, load_balance_weight=0.5),
        fusion=dict(type='AvgTokenFusion'), token_norm=None),
)


@pytest.fixture(scope='module')
def pinned():
    return json.loads(FIXTURE.read_text())


def check(result: dict, expected: dict) -> None:
    assert result['state'] == expected['state'], (
        'the parameters (names, order or initial values) differ')
    assert sorted(result['outputs']) == sorted(expected['outputs'])
    for key, (shape, sums) in expected['outputs'].items():
        got_shape, got_sums = result['outputs'][key]
        assert got_shape == shape, key
        # float32 rounding of each element, relative to the element sizes
        tolerance = 1e-5 * sums[1] + 1e-6
        assert all(abs(a - b) <= tolerance
                   for a, b in zip(got_sums, sums)), (key, got_sums, sums)


@pytest.mark.parametrize('name', sorted(SCHEMES))
def test_scheme_is_pinned(name, pinned, tiny_swin_cfg, tiny_htsat_cfg):
    check(SCHEMES[name](tiny_swin_cfg, tiny_htsat_cfg), pinned[name])


@pytest.mark.parametrize('name', sorted(MODELS_PINNED))
def test_model_is_pinned(name, pinned, model_cfg):
    check(MODELS_PINNED[name](model_cfg), pinned[name])
