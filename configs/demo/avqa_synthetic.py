# Quick start for MUSIC-AVQA: the tiny frozen (pretrained) MoLT model of
# ave_synthetic.py with the AVQA head, on the synthetic set from
#   python tools/dataset_converters/make_synthetic.py --task avqa \
#       --out data/avqa_synthetic
# Compare with the question-only baselines the generator writes to
# data/avqa_synthetic/baselines.json.
_base_ = ['./ave_synthetic.py', '../_base_/models/avqa_head.py']

data_root = 'data/avqa_synthetic'
pipeline = [
    dict(type='LoadFrames'),
    dict(type='ResizeFrames', size={{_base_.img_size}}),
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
dataset = dict(
    _delete_=True,
    type='MusicAVQADataset',
    data_root=data_root,
    pipeline=pipeline)
train_dataloader = dict(dataset=dict(dataset, ann_file='avqa-train.json'))
val_dataloader = dict(
    dataset=dict(dataset, ann_file='avqa-val.json', test_mode=True))
test_dataloader = dict(
    dataset=dict(dataset, ann_file='avqa-test.json', test_mode=True))
val_evaluator = dict(type='AVQAAccuracy')
test_evaluator = val_evaluator
# The frozen features are computed in the first epoch and read from the
# cache afterwards (docs/en/feature_cache_and_scale.md).
custom_hooks = [dict(type='VocabularyHook'), dict(type='FeatureCacheHook')]

# Full-width adapters (embed_dims=None) on per-channel standardised frozen
# features, a BatchNorm on the fused visual tokens and a LayerNorm on the
# audio ones: without them the object questions stay at chance, and a
# BatchNorm on the audio tokens too lets the audio counting question win in
# most seeds (docs/en/notes/avqa_synthetic_demo.md).
# num_answers / vocab_size come from the training vocabulary.
model = dict(
    adapter=dict(embed_dims=None, router_hidden_dims=64),
    feature_norm=dict(type='RunningStandardization'),
    token_norm=dict(visual=dict(type='BN1d'), audio=dict(type='LN')),
    head=dict(_base_.avqa_head, _delete_=True, hidden_dims=64))
max_epochs = 30
# The quick start's warm-up, and its cosine decay stretched to 30 epochs.
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
# Select models on the overall val accuracy (mmengine cannot infer the
# rule of this key).
default_hooks = dict(
    checkpoint=dict(save_best='avqa/Overall', rule='greater'))
