# AdamW with a one-epoch linear warm-up and cosine decay over 30 epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    # fused: one kernel for all parameter tensors (CPU and CUDA).
    optimizer=dict(type='AdamW', lr=3e-4, weight_decay=0.01, fused=True),
    clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
        convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=30,
         eta_min=1e-6),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=30, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
