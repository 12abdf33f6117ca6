# Mettle-style baseline on AVE: parallel distillers on every block.
_base_ = [
    '../_base_/models/mettle_swinv2-l_htsat.py',
    '../_base_/models/ave_cmbs_head.py',
    '../_base_/datasets/ave.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=_base_.ave_cmbs_head)
