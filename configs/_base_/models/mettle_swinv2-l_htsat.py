# Mettle-style baseline: one uni-modal token distiller on every block of
# both backbones, in parallel (no backbone graph), averaged, no TOR.
_base_ = './molt_swinv2-l_htsat.py'

model = dict(
    adapter=dict(
        visual_layers='all', audio_layers='all', num_uda=1, num_cda=0),
    fusion=dict(_delete_=True, type='AvgTokenFusion'),
    tor_loss=None)
