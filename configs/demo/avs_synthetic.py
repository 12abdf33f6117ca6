# Quick start for audio-visual segmentation: the tiny frozen (pretrained)
# MoLT model of ave_synthetic.py with the AVS head, on the
# synthetic S4 set from
#   python tools/dataset_converters/make_synthetic.py --task avs_s4 \
#       --out data/avs_synthetic
# Which shape to segment is told only by the audio; compare with the
# audio-blind baselines in data/avs_synthetic/baselines.json. Trains in a
# few minutes on a 2-core CPU; see docs/en/get_started.md.
_base_ = ['./ave_synthetic.py', '../_base_/models/avs_head.py']

data_root = 'data/avs_synthetic'
pipeline = [
    dict(type='LoadFrameFiles'),
    dict(type='LoadMasks'),
    dict(type='ResizeFrames', size=_base_.img_size),
    dict(type='ResizeMasks', size=224),
    dict(type='LoadAudio', sample_rate=32000),
    dict(type='SliceAudioSegments', segment_length=1.0, clip_seconds=1.0),
    dict(
        type='PackAVInputs',
        data_keys=('gt_masks', 'mask_valid'),
        meta_keys=('video_id', 'category', 'sample_idx', 'frame_paths')),
]
dataset = dict(
    _delete_=True,
    type='AVSBenchDataset',
    subset='s4',
    data_root=data_root,
    pipeline=pipeline)
# Training reads only the labelled (first) frame: the head treats frames
# independently, so the other four would cost time and change no mask loss.
train_dataloader = dict(
    batch_size=16,
    dataset=dict(dataset, split='train', only_labelled_frames=True))
val_dataloader = dict(dataset=dict(dataset, split='val', test_mode=True))
test_dataloader = dict(dataset=dict(dataset, split='test', test_mode=True))
val_evaluator = dict(type='AVSMetric')
test_evaluator = val_evaluator

# The AVS head of the full-size configs, narrowed for the tiny backbones.
model = dict(
    head=dict(
        _base_.avs_head,
        _delete_=True,
        embed_dims=32,
        decode_head=dict(_base_.avs_head.decode_head, channels=32)))

# As in ../_base_/avs_runtime.py: tools/test.py --show-dir draws the masks.
default_hooks = dict(visualization=dict(type='AVVisualizationHook'))
visualizer = dict(type='AVSVisualizer', name='avs_visualizer')
