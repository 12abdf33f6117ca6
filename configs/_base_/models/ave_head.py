# molt's light AVE head (per-segment event relevance + one event class per
# video), the alternative to ave_cmbs_head.py used by the *_light configs and
# the demos as `model = dict(head=_base_.ave_head)`.
ave_head = dict(type='AVEHead', num_classes=28, hidden_dims=128)
