# Table 5 (latent tokens per modality), MUSIC-AVQA: 8 tokens.
_base_ = '../molt/avqa_swin_htsat.py'

model = dict(adapter=dict(num_latents=8))
