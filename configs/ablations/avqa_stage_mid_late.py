# Table 4 (adaptation stage), MUSIC-AVQA: adapters on the mid + late
# blocks of both backbones (early = the first 4, late = the last 2, mid =
# the blocks in between).
_base_ = '../molt/avqa_swin_htsat.py'

stage = 'mid+late'
model = dict(adapter=dict(visual_layers=stage, audio_layers=stage))
