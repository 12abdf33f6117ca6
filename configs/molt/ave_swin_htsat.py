# MoLT on AVE: frozen Swin-V2-L + HTS-AT, late layers, AVE head.
_base_ = [
    '../_base_/models/molt_swinv2-l_htsat.py',
    '../_base_/models/ave_head.py',
    '../_base_/datasets/ave.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=_base_.ave_head)
