# Table 6 (number of adapters), MUSIC-AVQA: 1 UDA + 2 CDA per layer.
_base_ = '../molt/avqa_swin_htsat.py'

model = dict(adapter=dict(num_uda=1, num_cda=2))
