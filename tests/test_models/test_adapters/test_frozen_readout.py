"""The comparison floor: the head reads the last frozen block unchanged."""
import torch


def test_frozen_readout_passes_the_last_block_through(build_tiny_model,
                                                      batch):
    model = build_tiny_model(adapter=dict(type='FrozenReadout'),
                             fusion=dict(type='AvgTokenFusion'))
    adapter = model.adapter
    assert not list(adapter.parameters())
    for name in ('visual', 'audio'):
        layout = adapter.layouts[name]
        assert adapter.layers(name) == [layout.num_layers - 1]
        assert adapter.out_dims[name] == layout.dims[-1]
    data = model.data_preprocessor(batch, training=True)
    frames, audio = data['inputs']['frames'], data['inputs']['audio']
    frozen = model.backbone_features(frames.flatten(0, 1),
                                     audio.flatten(0, 1))
    tokens = adapter(frozen['visual'], frozen['audio'])
    assert torch.equal(tokens['visual'][0], frozen['visual'][0])
    assert torch.equal(tokens['audio'][0], frozen['audio'][0])
    losses = model(**data, mode='loss')
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert all(p.grad is not None for p in model.head.parameters()
               if p.requires_grad)
    assert all(p.grad is None for p in model.visual_backbone.parameters())
