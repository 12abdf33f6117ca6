# MoLT on AVE with molt's light AVE head (audio-guided grounding, a BiLSTM,
# event relevance + event class; 0.9 M parameters at full width) instead
# of the CMBS decoder.
_base_ = ['./ave_swin_htsat.py', '../_base_/models/ave_head.py']

model = dict(head=dict(_base_.ave_head, _delete_=True))
