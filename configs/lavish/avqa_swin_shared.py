# LAVisH on MUSIC-AVQA in its original setting: one Swin-V2-L for both
# modalities.
_base_ = [
    '../_base_/models/lavish_swinv2-l_htsat.py',
    '../_base_/datasets/music_avqa_shared.py',
    '../_base_/schedules/adamw_30e.py', '../_base_/avqa_runtime.py'
]

model = dict(
    audio_backbone=None,
    audio_frontend=dict(type='KaldiFbank', input_sample_rate=32000),
    head=dict(
        type='AVQAHead', num_answers=None, vocab_size=None, hidden_dims=256,
        match_loss_weight=0.5))
train_dataloader = dict(batch_size=2)
