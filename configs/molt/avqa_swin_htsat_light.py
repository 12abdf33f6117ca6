# MoLT on MUSIC-AVQA with molt's light AVQA head (256 wide: an LSTM
# question encoder, audio-guided grounding, question-guided temporal
# attention, matching loss) instead of the ST-AVQA decoder.
_base_ = ['./avqa_swin_htsat.py', '../_base_/models/avqa_head.py']

model = dict(head=dict(_base_.avqa_head, _delete_=True))
