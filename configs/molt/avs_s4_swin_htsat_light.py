# MoLT on AVSBench S4 with molt's light AVS head (stage maps conditioned on
# the fused tokens, mmseg's FPNHead, BCE + soft IoU) instead of the
# AVSBench decoder.
_base_ = ['./avs_s4_swin_htsat.py', '../_base_/models/avs_head.py']

model = dict(head=dict(_base_.avs_head, _delete_=True))
