# LAVisH baseline on AVE (Swin-V2-L + HTS-AT): LAVisH as DG-SCT's code base
# builds it (DG-SCT's AVE settings: 32 latent tokens, reduction 8, 2 conv
# groups, batch norm), gradients through both backbones; CMBS head.
_base_ = [
    '../_base_/models/lavish_swinv2-l_htsat.py',
    '../_base_/models/ave_cmbs_head.py',
    '../_base_/datasets/ave.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=_base_.ave_cmbs_head)
train_dataloader = dict(batch_size=2)
