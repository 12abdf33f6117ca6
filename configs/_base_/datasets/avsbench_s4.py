# AVSBench S4 (single source), layout of molt.datasets.AVSBenchDataset
# (docs/en/dataset_prepare.md): data_root holds s4_meta_data.csv, and
# visual_frames/, gt_masks/, audio_wav/ lie under data_prefix.media (for the
# unpacked release: data_root='.../Single-source', media='s4_data').
# 5 frames per video resized to 192x192 for Swin-V2, masks scored at
# 224x224, 1 s of 32 kHz audio per frame tiled to HTS-AT's 5 s clip.
# Training uses the first frame's mask only (the dataset's S4 protocol).
data_root = 'data/avsbench/s4'
# Videos whose wav ends before the 5 s the frames read are logged at
# start-up and repeat the last second.

pipeline = [
    dict(type='LoadFrameFiles'),
    dict(type='LoadMasks'),
    dict(type='ResizeFrames', size=192),
    dict(type='ResizeMasks', size=224),
    dict(type='LoadAudio', sample_rate=32000),
    dict(type='SliceAudioSegments', segment_length=1.0, clip_seconds=5.0),
    dict(
        type='PackAVInputs',
        data_keys=('gt_masks', 'mask_valid'),
        meta_keys=('video_id', 'category', 'sample_idx', 'frame_paths')),
]
dataset = dict(
    type='AVSBenchDataset',
    subset='s4',
    data_root=data_root,
    data_prefix=dict(media=''),
    pipeline=pipeline)

train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(dataset, split='train'))
val_dataloader = dict(
    train_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(dataset, split='val', test_mode=True))
test_dataloader = dict(
    val_dataloader, dataset=dict(dataset, split='test', test_mode=True))
# Per-video Jaccard and F-score; avs/jaccard selects the best checkpoint.
val_evaluator = dict(type='AVSMetric')
test_evaluator = val_evaluator
