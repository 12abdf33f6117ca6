# Table 5 (latent tokens per modality), MUSIC-AVQA: 2 tokens.
_base_ = '../molt/avqa_swin_htsat.py'

model = dict(adapter=dict(num_latents=2))
