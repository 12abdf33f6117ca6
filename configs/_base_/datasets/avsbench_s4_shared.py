# AVSBench S4 for the shared-backbone setting: 1 s of audio per frame, not
# tiled (the Kaldi fbank front-end makes a 192x192 image of it).
_base_ = './avsbench_s4.py'

pipeline = [
    dict(step, clip_seconds=1.0)
    if step.type == 'SliceAudioSegments' else step
    for step in _base_.pipeline
]
train_dataloader = dict(dataset=dict(pipeline=pipeline))
val_dataloader = dict(dataset=dict(pipeline=pipeline))
test_dataloader = dict(dataset=dict(pipeline=pipeline))
