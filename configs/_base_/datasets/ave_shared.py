# AVE for the shared-backbone setting: 1 s of audio per segment, not tiled
# (the Kaldi fbank front-end makes a 192x192 image of it).
_base_ = './ave.py'

pipeline = [
    dict(type='LoadFrames'),
    dict(type='ResizeFrames', size=192),
    dict(type='LoadAudio', sample_rate=32000),
    dict(type='SliceAudioSegments', segment_length=1.0, clip_seconds=1.0),
    dict(type='PackAVInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=pipeline))
val_dataloader = dict(dataset=dict(pipeline=pipeline))
test_dataloader = dict(dataset=dict(pipeline=pipeline))
