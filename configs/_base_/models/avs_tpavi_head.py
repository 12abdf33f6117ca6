# The AVSBench decoder (ASPP, TPAVI across the clip's frames, fusion blocks)
# with DG-SCT/AVMoE's temporal gating, fed by MoLT's fused tokens; the model
# fills in the stage-map channels. 56.5 M parameters at full width
# (docs/en/paper_reading.md). Frames interact, so AVS configs using it
# decode all five frames of a clip (S4 training included; the loss reads
# the labelled ones).
# Task configs use it as `model = dict(head=_base_.avs_tpavi_head)` (S4:
# BCE) or `_base_.avs_tpavi_head_ms3` (MS3: BCE + AVSBench's audio-visual
# matching term at weight 0.5). Tiny backbones narrow it, e.g. channels=32,
# audio_channels=16, token_heads=4, output_channels=(16, 8),
# temporal=dict(d_model=32, ffn_dims=64, num_heads=4, num_layers=2), and
# decode_size=64 to decode below the 224 px masks.
# The temporal gate's scale is per task, as in the official code: S4 fixes
# `self.gamma = 0.05` (DG-SCT AVS/avs_scripts/avs_s4/model/PVT_AVSModel.py
# line 450; AVMoE avs_s4/model/PVT_AVSModel_v2.py line 451); MS3 uses
# `opt.gamma`, default 0.1 (avs_ms3/base_options.py line 77 in both repos;
# no MS3 train script passes --gamma).
avs_tpavi_head = dict(
    type='AVSBenchHead',
    channels=256,
    audio_channels=128,
    reduction='aspp',
    aspp_dilations=(3, 6, 12, 18),
    token_heads=8,
    temporal=dict(d_model=256, ffn_dims=1024, num_heads=4, num_layers=2),
    gate_scale=0.05,
    output_channels=(128, 32),
    mask_size=224,
    match_loss_weight=0.0)
avs_tpavi_head_ms3 = dict(
    avs_tpavi_head, gate_scale=0.1, match_loss_weight=0.5)
