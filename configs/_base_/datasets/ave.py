# AVE as written by tools/dataset_converters/ave.py
# (docs/en/dataset_prepare.md). 10 one-second segments per video; each
# segment gets one 192x192 frame and 1 s of 32 kHz audio tiled to HTS-AT's
# 10 s clip.
dataset_type = 'AVEDataset'
data_root = 'data/ave'
# Samples whose frames or audio end before the 10 s they read (short videos,
# frames and audio of different lengths) are logged at start-up and repeat
# their last second (as the peers do).

pipeline = [
    dict(type='LoadFrames'),
    dict(type='ResizeFrames', size=192),
    dict(type='LoadAudio', sample_rate=32000),
    dict(type='SliceAudioSegments', segment_length=1.0, clip_seconds=10.0),
    dict(type='PackAVInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='trainSet.txt',
        pipeline=pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='valSet.txt',
        pipeline=pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='testSet.txt',
        pipeline=pipeline,
        test_mode=True))
val_evaluator = dict(type='AVEAccuracy')
test_evaluator = val_evaluator
