# MUSIC-AVQA as written by tools/dataset_converters/music_avqa.py
# (docs/en/dataset_prepare.md). One sample per question: 10 segments
# spread over the 60 s video (seconds 0, 6, ..., 54), each one 192x192
# frame and 1 s of 32 kHz audio tiled to HTS-AT's 10 s clip; the question
# as 14 word ids.
# Every split uses the vocabularies of avqa-train.json (the dataset's
# vocab_source); tools/test.py hands over the checkpoint's instead, and
# VocabularyHook writes it to <work_dir>/vocab.json.
dataset_type = 'MusicAVQADataset'
data_root = 'data/music_avqa'
# Questions whose video's frames or audio end before the 55 s they read are
# logged at start-up and repeat the last second (as the peers do).

pipeline = [
    dict(type='LoadFrames'),
    dict(type='ResizeFrames', size=192),
    dict(type='LoadAudio', sample_rate=32000),
    dict(type='SliceAudioSegments', segment_length=1.0, clip_seconds=10.0),
    dict(type='TokenizeQuestion', max_length=14),
    dict(
        type='PackAVInputs',
        input_keys=('question', ),
        data_keys=('gt_answer', ),
        meta_keys=('video_id', 'question_id', 'question_type',
                   'question_text', 'answer', 'sample_idx')),
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
        ann_file='avqa-train.json',
        pipeline=pipeline))
val_dataloader = dict(
    train_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        train_dataloader['dataset'], ann_file='avqa-val.json',
        test_mode=True))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], ann_file='avqa-test.json'))
# avqa/Overall comes first, so save_best='auto' selects on it.
val_evaluator = dict(type='AVQAAccuracy')
test_evaluator = val_evaluator
custom_hooks = [dict(type='VocabularyHook')]
