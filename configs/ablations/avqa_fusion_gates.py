# Table 7 (layer-token fusion), MUSIC-AVQA: GatedTokenFusion.
_base_ = '../molt/avqa_swin_htsat.py'

model = dict(fusion=dict(_delete_=True, type='GatedTokenFusion'))
