# LAVisH in its original setting: one frozen Swin-V2-L for both modalities
# (audio as 192x192 Kaldi fbank images), adapters in every block.
_base_ = './lavish_swinv2-l_htsat.py'

model = dict(
    audio_backbone=None,
    audio_frontend=dict(type='KaldiFbank', input_sample_rate=32000))
