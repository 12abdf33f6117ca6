# Quick start: MoLT with tiny frozen backbones on the synthetic AVE set from
#   python tools/dataset_converters/make_synthetic.py --task ave \
#       --out data/ave_synthetic
# The backbones are pretrained on the synthetic world by `make pretrained`
# (tools/pretrain_tiny_encoders.py writes data/pretrained/; the environment
# variable MOLT_PRETRAINED_DIR points elsewhere). For random encoders, add
#   --cfg-options model.visual_backbone.pretrained=None \
#       model.audio_backbone.pretrained=None
# Trains in a few minutes on a 2-core CPU; see docs/en/get_started.md.
_base_ = [
    '../_base_/models/ave_head.py', '../_base_/datasets/ave.py',
    '../_base_/schedules/adamw_30e.py', '../_base_/default_runtime.py'
]

data_root = 'data/ave_synthetic'
img_size = 64
pretrained_dir = '{{$MOLT_PRETRAINED_DIR:data/pretrained}}'
pipeline = [
    dict(type='LoadFrames'),
    dict(type='ResizeFrames', size=img_size),
    dict(type='LoadAudio', sample_rate=32000),
    dict(type='SliceAudioSegments', segment_length=1.0, clip_seconds=1.0),
    dict(type='PackAVInputs'),
]
loader = dict(
    batch_size=8, num_workers=2, dataset=dict(data_root=data_root,
                                              pipeline=pipeline))
train_dataloader = loader
val_dataloader = loader
test_dataloader = loader

model = dict(
    type='AVModel',
    data_preprocessor=dict(type='AVDataPreprocessor'),
    visual_backbone=dict(
        type='SwinV2', arch=None, img_size=img_size, patch_size=4,
        embed_dim=24, depths=(2, 2, 2, 2), num_heads=(2, 2, 4, 4),
        window_size=4, pretrained=pretrained_dir + '/tiny_swinv2.pth'),
    audio_backbone=dict(
        type='HTSAT', sample_rate=32000, clip_seconds=1.0, n_mels=16,
        spec_size=64, freq_ratio=4, embed_dim=24, depths=(2, 2, 2, 2),
        num_heads=(2, 2, 4, 4), window_size=4,
        pretrained=pretrained_dir + '/tiny_htsat.ckpt'),
    adapter=dict(
        type='MoLTAdapter', num_uda=2, num_cda=2, num_latents=4,
        num_heads=2, embed_dims=32, router_hidden_dims=32),
    fusion=dict(type='MLPTokenFusion'),
    tor_loss=dict(type='TokenOrthogonalityLoss', loss_weight=0.01),
    head=dict(_base_.ave_head, hidden_dims=32))

max_epochs = 12
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs,
         eta_min=1e-5),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=5))
custom_hooks = [dict(type='EpochTimerHook')]
