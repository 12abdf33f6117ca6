# MoLT on frozen Swin-V2-L (frames) + HTS-AT (audio): 2 UDA + 2 CDA per
# layer on the last 2 blocks of each backbone, MLP token fusion, TOR.
# Checkpoints are local files (README: "Checkpoints"); the task config adds
# the head.
model = dict(
    type='AVModel',
    data_preprocessor=dict(type='AVDataPreprocessor'),
    visual_backbone=dict(
        type='SwinV2',
        arch='swinv2_large_window12_192',
        pretrained='checkpoints/swinv2_large_patch4_window12_192_22k.pth'),
    audio_backbone=dict(
        type='HTSAT',
        clip_seconds=10.0,
        pretrained='checkpoints/HTSAT_AudioSet_Saved_1.ckpt'),
    adapter=dict(
        type='MoLTAdapter',
        visual_layers='late',
        audio_layers='late',
        num_uda=2,
        num_cda=2,
        num_latents=8,
        num_heads=4,
        embed_dims=64),
    fusion=dict(type='MLPTokenFusion'),
    tor_loss=dict(type='TokenOrthogonalityLoss', loss_weight=0.01))
