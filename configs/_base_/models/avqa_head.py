# molt's light AVQA head, 256 wide, with ST-AVQA's audio-visual matching
# loss: the alternative to avqa_stavqa_head.py used by the *_light configs
# and the demo as `model = dict(head=_base_.avqa_head)`. num_answers and
# vocab_size stay None: tools/train.py and tools/test.py fill them from the
# training vocabulary.
avqa_head = dict(
    type='AVQAHead',
    num_answers=None,
    vocab_size=None,
    hidden_dims=256,
    match_loss_weight=0.5)
