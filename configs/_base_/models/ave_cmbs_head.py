# The CMBS AVE head (Xia & Zhao, CVPR 2022) at the widths DG-SCT and AVMoE
# give it on Swin-V2-L + HTS-AT: tokens -> 512 (visual) / 128 (audio),
# BiLSTMs and relation layers 256 wide (feed-forward 1024, 4 heads, 2
# self-attention layers), CMBS's losses with the gate term (DG-SCT; AVMoE:
# gate_loss_weight=0). 7.9 M parameters at full width
# (docs/en/paper_reading.md). Task configs use it as
# `model = dict(head=_base_.ave_cmbs_head)`; tiny backbones narrow it,
# e.g. visual_fc_dims=32, audio_fc_dims=16, d_model=32, ffn_dims=64.
ave_cmbs_head = dict(
    type='CMBSHead',
    num_classes=28,
    visual_fc_dims=512,
    audio_fc_dims=128,
    d_model=256,
    ffn_dims=1024,
    num_heads=4,
    num_layers=2,
    gate_scale=0.1,
    av_weight=0.3,
    topk=4,
    gate_loss_weight=1.0)
