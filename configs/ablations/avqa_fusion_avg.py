# Table 7 (layer-token fusion), MUSIC-AVQA: AvgTokenFusion.
_base_ = '../molt/avqa_swin_htsat.py'

model = dict(fusion=dict(_delete_=True, type='AvgTokenFusion'))
