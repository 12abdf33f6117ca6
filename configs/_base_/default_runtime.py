default_scope = 'molt'
# molt's runner: adapter-only, atomically written, exactly resumable
# checkpoints (docs/en/checkpoints.md).
runner_type = 'MoltRunner'

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Model selection on the validation split (never on test). Files are
    # written atomically and old ones removed only after their successor.
    checkpoint=dict(
        type='SafeCheckpointHook', interval=1, max_keep_ckpts=1,
        save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'))

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='Visualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
# False loads a checkpoint that does not fit the model (load_from,
# tools/test.py) as far as it fits, with a warning (--non-strict).
load_strict = True
randomness = dict(seed=0)
