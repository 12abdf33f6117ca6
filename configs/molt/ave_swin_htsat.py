# MoLT on AVE: frozen Swin-V2-L + HTS-AT, late layers, full-width tokens,
# the CMBS head DG-SCT and AVMoE use (the paper's AVE decoder).
_base_ = [
    '../_base_/models/molt_swinv2-l_htsat.py',
    '../_base_/models/ave_cmbs_head.py',
    '../_base_/datasets/ave.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=_base_.ave_cmbs_head)
