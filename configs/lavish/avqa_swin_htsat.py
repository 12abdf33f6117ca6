# LAVisH baseline on MUSIC-AVQA (Swin-V2-L + HTS-AT): LAVisH as DG-SCT's
# code base builds it, with DG-SCT's AVQA settings (2 latent tokens, 4 conv
# groups, no batch norm), all final visual tokens for the ST-AVQA head's
# grounding. The paper's row (367.4 M / 28.7 %) is not reproducible from
# public code (configs/lavish/README.md).
_base_ = [
    '../_base_/models/lavish_swinv2-l_htsat.py',
    '../_base_/models/avqa_stavqa_head.py',
    '../_base_/datasets/music_avqa.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/avqa_runtime.py',
]

model = dict(
    adapter=dict(num_latents=2, num_groups=4, use_bn=False,
                 visual_pooling=None),
    head=_base_.avqa_stavqa_head)
train_dataloader = dict(batch_size=2)
