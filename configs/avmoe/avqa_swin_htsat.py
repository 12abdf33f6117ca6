# AVMoE baseline on MUSIC-AVQA: the authors' AVQA settings (1 cross-modal +
# 2 uni-modal experts, every stage, 2 latent tokens, 4 conv groups, no
# batch norm), all final visual tokens for the ST-AVQA head's grounding.
_base_ = [
    '../_base_/models/avmoe_swinv2-l_htsat.py',
    '../_base_/models/avqa_stavqa_head.py',
    '../_base_/datasets/music_avqa.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/avqa_runtime.py',
]

model = dict(
    adapter=dict(num_uni_experts=2, num_latents=2, num_groups=4,
                 use_bn=False, stages=None, visual_pooling=None),
    head=_base_.avqa_stavqa_head)
train_dataloader = dict(batch_size=2)
