# MoLT with one frozen Swin-V2-L for both modalities (the shared setting):
# audio becomes a 192x192 Kaldi fbank image per 1 s segment.
_base_ = './molt_swinv2-l_htsat.py'

model = dict(
    audio_backbone=None,
    audio_frontend=dict(type='KaldiFbank', input_sample_rate=32000))
