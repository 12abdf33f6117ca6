# Ablation: 4 latent tokens per modality for MoLT on AVSBench S4 (the
# paper's AVS default is 4).
_base_ = '../molt/avs_s4_swin_htsat.py'

model = dict(adapter=dict(num_latents=4))
