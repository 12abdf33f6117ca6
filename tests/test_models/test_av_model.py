"""The composed model: modes, gradients, no-grad backbones, bad configs."""
import pytest
import torch

from molt.models.fusions import AvgTokenFusion, GatedTokenFusion
from molt.models.utils import RunningStandardization, TokenBatchNorm


def run_loss(model, batch):
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    sum(losses.values()).backward()
    return losses


def test_modes(build_tiny_model, batch):
    model = build_tiny_model()
    data = model.data_preprocessor(batch, False)
    outputs = model(**data, mode='tensor')
    assert outputs['event_logits'].shape == (2, 3)
    assert outputs['class_logits'].shape == (2, 3)
    samples = model(**data, mode='predict')
    assert all(s.pred_label.shape == (3, ) for s in samples)
    assert set(model(**data, mode='loss')) == {'loss_event', 'loss_class'}
    with pytest.raises(ValueError, match="Invalid mode 'train'"):
        model(**data, mode='train')


def test_molt_gradients_reach_every_trainable_part_and_no_backbone(
        build_tiny_model, batch):
    # Stage-2 blocks (2x2 tokens): the tiny Swin's last blocks have one
    # token, over which attention is constant and gives no gradient.
    model = build_tiny_model(
        adapter=dict(type='MoLTAdapter', visual_layers=[4, 5],
                     embed_dims=32),
        tor_loss=dict(type='TokenOrthogonalityLoss', loss_weight=0.1))
    losses = run_loss(model, batch)
    assert set(losses) == {'loss_event', 'loss_class', 'loss_tor'}
    trainable = [(n, p) for n, p in model.named_parameters()
                 if p.requires_grad]
    assert trainable and all(
        n.startswith(('adapter.', 'visual_fusion.', 'audio_fusion.',
                      'visual_token_norm.', 'audio_token_norm.', 'head.'))
        for n, _ in trainable)
    for name, param in trainable:
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    for backbone in (model.visual_backbone, model.audio_backbone):
        assert all(not p.requires_grad and p.grad is None
                   for p in backbone.parameters())


def test_molt_backbone_outputs_carry_no_autograd_history(
        build_tiny_model, batch):
    model = build_tiny_model()
    seen = []
    for backbone in (model.visual_backbone, model.audio_backbone):
        backbone.register_forward_hook(
            lambda module, args, out: seen.extend(out))
    run_loss(model, batch)
    assert len(seen) == 4  # two tapped layers per backbone
    assert all(t.grad_fn is None and not t.requires_grad for t in seen)


def test_molt_stage_maps_end_in_the_final_norm_tokens_do_not(
        build_tiny_model):
    # MoLT's path (frozen maps for a dense head): the last stage map passes
    # Swin-V2's final LayerNorm, the tapped tokens the adapter reads do not.
    model = build_tiny_model(
        adapter=dict(type='MoLTAdapter', visual_layers=[6, 7], embed_dims=32))
    frames, audio = torch.randn(2, 3, 32, 32), torch.randn(2, 16000)
    frozen = model.backbone_features(frames, audio, with_maps=True)
    raw = model.visual_backbone(frames, [5, 6, 7])
    for ours, plain in zip(frozen['visual'], raw[1:]):
        torch.testing.assert_close(ours, plain)
    maps = [m.flatten(2).transpose(1, 2) for m in frozen['visual_maps']]
    torch.testing.assert_close(maps[2], raw[0])
    torch.testing.assert_close(
        maps[3], model.visual_backbone.forward_final_norm(raw[2]))
    assert not torch.allclose(maps[3], raw[2], atol=1e-3)


def test_lavish_backbone_outputs_are_in_the_graph(build_tiny_model, batch):
    model = build_tiny_model(adapter=dict(type='LAVisHAdapter'))
    for param in model.adapter.parameters():
        if param.numel() == 1:
            param.data.fill_(0.5)
    seen = []
    block = model.visual_backbone.block(model.visual_backbone.num_layers - 1)
    block.norm2.register_forward_hook(lambda m, a, out: seen.append(out))
    run_loss(model, batch)
    assert seen and seen[0].grad_fn is not None
    assert all(p.grad is None for p in model.visual_backbone.parameters())
    assert model.adapter.adapters['visual'][0][0].up.weight.grad is not None


def test_full_width_tokens_reach_the_head_per_modality(
        build_tiny_model, batch, tiny_htsat_cfg):
    """Without ``embed_dims`` each modality keeps its last blocks' width
    (tiny Swin 128, tiny HTS-AT 64); fusion, norm and head follow."""
    model = build_tiny_model(
        adapter=dict(type='MoLTAdapter', num_heads=4),
        audio_backbone=dict(tiny_htsat_cfg, embed_dim=8))
    assert model.adapter.out_dims == dict(visual=128, audio=64)
    assert (model.head.visual_dims, model.head.audio_dims) == (128, 64)
    assert model.audio_token_norm.normalized_shape == (64, )
    data = model.data_preprocessor(batch, False)
    feats = model.extract_feat(data['inputs'])
    assert feats['visual'].shape == (2, 3, 8, 128)
    assert feats['audio'].shape == (2, 3, 8, 64)


def test_fused_tokens_reach_the_head_normalised(build_tiny_model, batch):
    """A LayerNorm per modality on the fused tokens (on by default):
    every token has zero mean and unit variance over its channels at
    initialisation; ``token_norm=None`` hands the raw fused tokens on."""
    model = build_tiny_model()
    raw = build_tiny_model(token_norm=None)
    raw.load_state_dict(model.state_dict(), strict=False)
    data = model.data_preprocessor(batch, False)
    feats = model.extract_feat(data['inputs'])
    raw_feats = raw.extract_feat(data['inputs'])
    for name in ('visual', 'audio'):
        tokens = feats[name]
        torch.testing.assert_close(tokens.mean(-1),
                                   torch.zeros(tokens.shape[:-1]),
                                   atol=1e-5, rtol=0)
        torch.testing.assert_close(
            tokens.var(-1, unbiased=False), torch.ones(tokens.shape[:-1]),
            atol=1e-3, rtol=0)
        expected = torch.nn.functional.layer_norm(raw_feats[name],
                                                  (tokens.shape[-1], ))
        torch.testing.assert_close(tokens, expected)
        assert not torch.allclose(raw_feats[name], tokens)
    assert isinstance(raw.visual_token_norm, torch.nn.Identity)


def test_token_norm_must_read_channels_last(build_tiny_model):
    """A 2-D BatchNorm would read ``(..., C)`` tokens along the wrong
    axis; the error names the field."""
    with pytest.raises(ValueError, match='model.token_norm.*BatchNorm2d'):
        build_tiny_model(token_norm=dict(type='BN'))
    with pytest.raises(ValueError, match='model.feature_norm.*momentun'):
        build_tiny_model(feature_norm=dict(type='BN1d', momentun=0.1))


def per_channel_moments(tokens):
    flat = tokens.reshape(-1, tokens.shape[-1])
    return flat.mean(0), flat.var(0, unbiased=False)


def test_batch_norm_token_norm_standardises_each_channel(
        build_tiny_model, batch):
    """``token_norm=dict(type='BN1d')``: in training each channel of the
    fused tokens has zero mean and unit variance over the batch's tokens
    (not per token), and the running statistics are what test time
    uses."""
    model = build_tiny_model(token_norm=dict(type='BN1d'))
    data = model.data_preprocessor(batch, True)
    model.train()
    feats = model.extract_feat(data['inputs'])
    for name in ('visual', 'audio'):
        mean, var = per_channel_moments(feats[name])
        torch.testing.assert_close(mean, torch.zeros_like(mean), atol=1e-5,
                                   rtol=0)
        torch.testing.assert_close(var, torch.ones_like(var), atol=1e-3,
                                   rtol=0)
        assert not torch.allclose(feats[name].mean(-1),
                                  torch.zeros(feats[name].shape[:-1]),
                                  atol=1e-3)
        norm = getattr(model, f'{name}_token_norm')
        assert norm.num_batches_tracked == 1 and norm.running_var.ne(1).all()
    model.eval()
    raw = build_tiny_model(token_norm=None).eval()
    raw.load_state_dict(model.state_dict(), strict=False)
    tokens = model.extract_feat(data['inputs'])['visual']
    expected = raw.extract_feat(data['inputs'])['visual']
    norm = model.visual_token_norm
    expected = ((expected - norm.running_mean) /
                (norm.running_var + norm.eps).sqrt() * norm.weight + norm.bias)
    torch.testing.assert_close(tokens, expected)


def test_feature_norm_standardises_what_the_adapter_reads(
        build_tiny_model, batch):
    """``feature_norm=dict(type='RunningStandardization')`` (the AVQA
    demo's): one norm per tapped layer and modality; the adapter reads
    each frozen layer with every channel standardised over the training
    tokens, whether the backbones run or cached features are fed."""
    model = build_tiny_model(
        feature_norm=dict(type='RunningStandardization'))
    for name in ('visual', 'audio'):
        norms = model.feature_norm[name]
        assert len(norms) == len(model.adapter.layers(name))
        assert not list(norms.parameters())
    read = []
    model.adapter.register_forward_hook(
        lambda module, args, out: read.append(args))
    data = model.data_preprocessor(batch, True)
    model.train()
    model.extract_feat(data['inputs'])
    inputs = data['inputs']
    frozen = model.backbone_features(inputs['frames'].flatten(0, 1),
                                     inputs['audio'].flatten(0, 1))
    for layers, raw in zip(read[0], (frozen['visual'], frozen['audio'])):
        assert len(layers) == len(raw) == 2
        for tokens, raw_tokens in zip(layers, raw):
            mean, var = per_channel_moments(tokens)
            torch.testing.assert_close(mean, torch.zeros_like(mean),
                                       atol=1e-4, rtol=0)
            torch.testing.assert_close(var, torch.ones_like(var),
                                       atol=1e-2, rtol=0)
            assert not torch.allclose(per_channel_moments(raw_tokens)[1],
                                      torch.ones_like(var), atol=0.1)
    fed = dict(features={
        name: [t.unflatten(0, inputs['frames'].shape[:2]) for t in tensors]
        for name, tensors in frozen.items()
    })
    model.extract_feat(fed)
    for live, cached in zip(read[0], read[1]):
        for live_tokens, cached_tokens in zip(live, cached):
            torch.testing.assert_close(live_tokens, cached_tokens)


def test_norms_can_differ_per_modality(build_tiny_model):
    model = build_tiny_model(
        token_norm=dict(visual=dict(type='BN1d'), audio=dict(type='LN')),
        feature_norm=dict(audio=dict(type='RunningStandardization')))
    assert isinstance(model.visual_token_norm, TokenBatchNorm)
    assert isinstance(model.audio_token_norm, torch.nn.LayerNorm)
    assert all(isinstance(norm, torch.nn.Identity)
               for norm in model.feature_norm['visual'])
    assert all(isinstance(norm, RunningStandardization)
               for norm in model.feature_norm['audio'])
    with pytest.raises(ValueError, match="model.token_norm.*'vision'"):
        build_tiny_model(token_norm=dict(vision=dict(type='LN')))


def test_feature_norm_needs_a_parallel_scheme(build_tiny_model):
    with pytest.raises(ValueError, match='model.feature_norm.*LAVisH'):
        build_tiny_model(
            adapter=dict(type='LAVisHAdapter'),
            feature_norm=dict(type='BN1d', affine=False))


def test_fusion_is_swapped_by_config(build_tiny_model, batch):
    avg = build_tiny_model(fusion=dict(type='AvgTokenFusion'))
    assert isinstance(avg.visual_fusion, AvgTokenFusion)
    gated = build_tiny_model(fusion=dict(type='GatedTokenFusion'))
    assert isinstance(gated.audio_fusion, GatedTokenFusion)
    assert gated.audio_fusion.gates.numel() == 2
    run_loss(gated, batch)


def test_mettle_style_uses_every_layer(build_tiny_model, batch):
    model = build_tiny_model(
        adapter=dict(type='MoLTAdapter', visual_layers='all',
                     audio_layers='all', num_uda=1, num_cda=0,
                     embed_dims=16),
        fusion=dict(type='AvgTokenFusion'))
    assert model.adapter.visual_layers == list(range(8))
    run_loss(model, batch)


def test_shared_backbone(build_tiny_model, batch, tiny_swin_cfg):
    model = build_tiny_model(
        audio_backbone=None,
        audio_frontend=dict(type='KaldiFbank', num_mel_bins=32,
                            num_frames=32))
    assert model.audio_encoder is model.visual_backbone
    names = [n for n, _ in model.named_parameters()]
    assert not any(n.startswith('audio_backbone') for n in names)
    run_loss(model, batch)


@pytest.mark.parametrize('override,field', [
    (dict(adapter=dict(type='MoLTAdapter', visual_layers='latest')),
     'adapter.visual_layers'),
    (dict(adapter=dict(type='MoLTAdapter', audio_layers=[0, 99])),
     'adapter.audio_layers'),
    (dict(head=dict(type='AVEHead', num_classes=3, visual_dims=999)),
     'model.head.visual_dims'),
    (dict(fusion=dict(type='MLPTokenFusion', embed_dims=7)),
     'model.fusion.embed_dims'),
    (dict(audio_backbone=None), 'model.audio_frontend'),
])
def test_bad_configs_fail_at_build_naming_the_field(build_tiny_model,
                                                    override, field):
    with pytest.raises((ValueError, IndexError), match=field):
        build_tiny_model(**override)


class NotAScheme(torch.nn.Module):
    """Takes the layouts like a scheme but declares no contract."""

    def __init__(self, visual, audio):
        super().__init__()


def test_adapter_must_be_a_scheme(build_tiny_model):
    with pytest.raises(TypeError, match='model.adapter: NotAScheme'):
        build_tiny_model(adapter=dict(type=NotAScheme))
