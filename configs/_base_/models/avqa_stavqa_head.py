# The ST-AVQA head (net_grd_avst) as DG-SCT and AVMoE build it on Swin-V2-L:
# every stream as wide as the visual tokens (1536 with full-width MoLT),
# audio-visual matching loss at weight 0.5. 66.9 M parameters at full width
# with the official vocabularies (42 answers, 93 question words;
# docs/en/paper_reading.md). Task configs use it as
# `model = dict(head=_base_.avqa_stavqa_head)`; num_answers and vocab_size
# stay None: tools/train.py and tools/test.py fill them from the training
# vocabulary. The matching MLP narrows with the backbones, e.g.
# match_dims=(32, 16, 8).
avqa_stavqa_head = dict(
    type='STAVQAHead',
    num_answers=None,
    vocab_size=None,
    num_heads=4,
    match_dims=(512, 256, 128),
    match_loss_weight=0.5)
