# Table 8 (token orthogonality regularisation), MUSIC-AVQA: TOR off.
_base_ = '../molt/avqa_swin_htsat.py'

model = dict(tor_loss=None)
