# The AVE head (per-segment event relevance + one event class per video).
# Task configs use it as `model = dict(head=_base_.ave_head)`.
ave_head = dict(type='AVEHead', num_classes=28, hidden_dims=128)
