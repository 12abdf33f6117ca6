# Table 8 (token orthogonality regularisation), MUSIC-AVQA: TOR on.
_base_ = '../molt/avqa_swin_htsat.py'

model = dict(
    tor_loss=dict(type='TokenOrthogonalityLoss', loss_weight=0.01))
