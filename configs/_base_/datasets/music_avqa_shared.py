# MUSIC-AVQA for the shared-backbone setting: 1 s of audio per segment, not
# tiled (the Kaldi fbank front-end makes a 192x192 image of it).
_base_ = './music_avqa.py'

pipeline = [
    dict(type='LoadFrames'),
    dict(type='ResizeFrames', size=192),
    dict(type='LoadAudio', sample_rate=32000),
    dict(type='SliceAudioSegments', segment_length=1.0, clip_seconds=1.0),
    dict(type='TokenizeQuestion', max_length=14),
    dict(
        type='PackAVInputs',
        input_keys=('question', ),
        data_keys=('gt_answer', ),
        meta_keys=('video_id', 'question_id', 'question_type',
                   'question_text', 'answer', 'sample_idx')),
]
train_dataloader = dict(dataset=dict(pipeline=pipeline))
val_dataloader = dict(dataset=dict(pipeline=pipeline))
test_dataloader = dict(dataset=dict(pipeline=pipeline))
