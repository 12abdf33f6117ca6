# AVMoE baseline (Cheng et al., NeurIPS 2024): in every paired block of the
# adapted stages, a router mixes cross-modal and uni-modal adapter experts
# beside the attention and the MLP branch of both frozen backbones,
# gradients through the backbones, mean-pooled final tokens. Defaults are
# the authors' AVE settings (train.sh: 1 cross-modal + 1 uni-modal expert,
# num_skip=2 -> stages 0 and 2, 32 latent tokens, reduction 8, 2 conv
# groups, batch norm); task configs change what their scripts change.
_base_ = './molt_swinv2-l_htsat.py'

model = dict(
    adapter=dict(
        _delete_=True,
        type='AVMoEAdapter',
        num_cross_experts=1,
        num_uni_experts=1,
        num_latents=32,
        reduction_factor=8,
        num_groups=2,
        use_bn=True,
        uni_self_attention=None,
        routing='sample',
        router_hidden_dims=(128, 32),
        router_noise_std=0.,
        stages=(0, 2),
        visual_pooling='mean',
        audio_pooling='mean'),
    fusion=dict(_delete_=True, type='AvgTokenFusion'),
    token_norm=None,  # the peers add no trainable norm on their outputs
    tor_loss=None)
