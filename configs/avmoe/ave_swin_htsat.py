# AVMoE baseline on AVE: adapters inside the paired blocks of Swin-V2-L and
# HTS-AT, gradients through both backbones, CMBS head (as the authors').
_base_ = [
    '../_base_/models/avmoe_swinv2-l_htsat.py',
    '../_base_/models/ave_cmbs_head.py',
    '../_base_/datasets/ave.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/default_runtime.py',
]

# AVMoE trains CMBS without the gate loss.
model = dict(head=dict(_base_.ave_cmbs_head, gate_loss_weight=0.0))
train_dataloader = dict(batch_size=2)
