"""AVSBenchHead: shapes and the AVS contract in a tiny model, TPAVI, the
ASPP, the fusion units and the matching loss against AVSBench's own
computation, frames that interact, and the widths at full size."""
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from molt.evaluation.metrics import AVSMetric
from molt.models.heads import AVSBenchHead
from molt.models.heads.avsbench_head import (TPAVI, ResidualConvUnit,
                                             SummedASPP)
from molt.structures import AVDataSample

STAGE_DIMS = [16, 32, 64, 128]  # the tiny Swin-V2 of conftest.py
MASK = 24
TINY = dict(channels=16, audio_channels=8, token_heads=2,
            temporal=dict(d_model=16, ffn_dims=32, num_heads=2),
            output_channels=(8, 4), mask_size=MASK, decode_size=32)


def head_cfg(**kwargs):
    cfg = dict(type='AVSBenchHead', **TINY)
    cfg.update(kwargs)
    return cfg


def build(**kwargs):
    cfg = dict(visual_dims=20, audio_dims=12, in_channels=STAGE_DIMS, **TINY)
    cfg.update(kwargs)
    return AVSBenchHead(**cfg)


def feats(batch=2, steps=5, tokens=4):
    return dict(
        visual=torch.randn(batch, steps, tokens, 20),
        audio=torch.randn(batch, steps, tokens, 12),
        visual_maps=[
            torch.randn(batch, steps, dims, size, size)
            for dims, size in zip(STAGE_DIMS, (8, 4, 2, 1))
        ])


def samples(batch=2, steps=5, first_frame_only=True):
    valid = torch.ones(steps, dtype=torch.bool)
    if first_frame_only:
        valid[1:] = False
    return [
        AVDataSample(
            gt_masks=(torch.rand(steps, MASK, MASK) > 0.5).to(torch.uint8),
            mask_valid=valid.clone(),
            metainfo=dict(video_id=str(i))) for i in range(batch)
    ]


def wake_tpavis(head):
    """TPAVI's output BN starts at zero (AVSBench); give it weight so that
    its attention branch shows in outputs and gradients."""
    for tpavi in head.tpavis:
        nn.init.normal_(tpavi.conv_out.bn.weight)
        nn.init.normal_(tpavi.conv_out.bn.bias)


def test_in_a_tiny_model_predictions_keep_the_avs_contract(build_tiny_model):
    model = build_tiny_model(head=head_cfg()).eval()
    assert model.head.in_channels == model.visual_backbone.stage_dims
    batch = dict(
        inputs=dict(
            frames=torch.randint(0, 256, (2, 5, 3, 32, 32),
                                 dtype=torch.uint8),
            audio=torch.randn(2, 5, 16000)),
        data_samples=samples())
    data = model.data_preprocessor(batch, False)
    assert model(**data, mode='tensor').shape == (2, 5, MASK, MASK)
    predicted = model(**data, mode='predict')
    assert all(s.pred_logits.shape == (5, MASK, MASK) for s in predicted)
    metric = AVSMetric()
    metric.process(None, [s.to_dict() for s in predicted])
    results = metric.compute_metrics(metric.results)
    assert 0 <= results['jaccard'] <= 100

    model.train()
    losses = model(**model.data_preprocessor(batch, True), mode='loss')
    assert {'loss_bce'} <= set(losses)


def test_s4_bce_reads_the_first_frame_and_frames_interact():
    head = build().eval()
    wake_tpavis(head)
    inputs, batch = feats(), samples()
    losses = head.loss(inputs, batch)
    assert set(losses) == {'loss_bce'}
    logits = head(inputs)
    first = torch.stack([s.gt_masks[0] for s in batch]).float()
    # AVSBench's F1_IoU_BCELoss: BCELoss(sigmoid(pred[::5]), first mask).
    expected = nn.BCELoss()(logits[:, 0].sigmoid(), first)
    assert losses['loss_bce'].item() == pytest.approx(expected.item(),
                                                      rel=1e-5)

    # TPAVI and the temporal gating mix the clip's frames: unlike the light
    # head, other frames' maps move the first frame's prediction.
    changed = dict(inputs)
    changed['visual_maps'] = [m.clone() for m in inputs['visual_maps']]
    for m in changed['visual_maps']:
        m[:, 1:] = torch.randn_like(m[:, 1:])
    moved = (head(changed)[:, 0] - logits[:, 0]).abs().max()
    assert moved > 1e-4


def test_decoder_is_dg_scts():
    """DG-SCT AVS/avs_scripts/avs_ms3/model/PVT_AVSModel.py after the
    per-stage projections (TemporalAttention.forward, the TPAVI stages,
    path4..path1, output_conv), written out with the head's layers."""
    head = build().eval()
    wake_tpavis(head)
    inputs = feats()
    bs = 2
    with torch.no_grad():
        tokens = head.token_reader.tokens(inputs['visual'].flatten(0, 1),
                                          inputs['audio'].flatten(0, 1))
        xs = []
        for stage, (feat, reduce) in enumerate(
                zip(inputs['visual_maps'], head.reductions)):
            x = F.interpolate(reduce(feat.flatten(0, 1)),
                              size=head.grid_sizes[stage], mode='bicubic')
            xs.append(head.token_reader(x, tokens, stage))
        audio_feature = head.audio_fc(inputs['audio'].mean(2))
        # TemporalAttention (gamma 0.1), per stage i
        audio_rnn_input = audio_feature
        video_gates = []
        for i, module in enumerate(head.temporal):
            x_ = F.adaptive_avg_pool2d(xs[i], 1).view(bs, 5, -1)
            x_ = F.relu(module.visual_fc(x_))
            audio_rnn_output, _ = module.audio_lstm(audio_rnn_input)
            visual_rnn_output, _ = module.visual_lstm(x_)
            video_key_value_feature = module._encode(
                module.visual_in(visual_rnn_output), module.visual_encoder)
            audio_key_value_feature = module._encode(
                module.audio_in(audio_rnn_output), module.audio_encoder)
            audio_gate = module.audio_gate(audio_key_value_feature).sigmoid()
            video_gate = module.visual_gate(video_key_value_feature).sigmoid()
            xs[i] = xs[i] + audio_gate.reshape(bs * 5, 1, 1, 1) * xs[i] * 0.1
            video_gates.append(video_gate.reshape(bs * 5, 1))
        video_gate = sum(video_gates) / 4
        audio_feature = audio_feature.view(-1, audio_feature.size(-1))
        audio_feature = audio_feature + video_gate * audio_feature * 0.1
        audio_feature = audio_feature.view(-1, 5, audio_feature.shape[-1])
        # TPAVI (pre_reshape_for_tpavi / post_reshape_for_tpavi)
        feature_map_list = []
        for i, tpavi in enumerate(head.tpavis):
            _, C, H, W = xs[i].shape
            x = xs[i].reshape(-1, 5, C, H, W).permute(0, 2, 1, 3, 4)
            x, _ = tpavi_reference(tpavi, x, audio_feature)
            feature_map_list.append(
                x.permute(0, 2, 1, 3, 4).reshape(-1, C, H, W))
        conv4_feat = head.fusions[3](feature_map_list[3])
        conv43 = head.fusions[2](conv4_feat, feature_map_list[2])
        conv432 = head.fusions[1](conv43, feature_map_list[1])
        conv4321 = head.fusions[0](conv432, feature_map_list[0])
        pred = head.output_conv(conv4321)
        pred = F.interpolate(pred, size=(MASK, MASK), mode='bilinear')
        logits = head(inputs)
    assert torch.allclose(logits.flatten(0, 1), pred.squeeze(1), atol=1e-5)


def a_masked_v_simm_loss(pred_masks, a_fea_list, v_map_list, stages):
    """AVSBench avs_ms3/loss.py A_MaskedV_SimmLoss with the MS3 scripts'
    flags (kl_flag, mask_pooling_type='avg', norm_fea=False,
    threshold=False)."""
    total_loss = 0
    for stage in stages:
        a_fea, v_map = a_fea_list[stage], v_map_list[stage]
        a_fea = a_fea.view(-1, a_fea.shape[-1])
        H, W = v_map.shape[-2], v_map.shape[-1]
        downsample_pred_masks = nn.AdaptiveAvgPool2d((H, W))(pred_masks)
        downsample_pred_masks = torch.sigmoid(downsample_pred_masks)
        masked_v_map = torch.mul(v_map, downsample_pred_masks)
        masked_v_fea = masked_v_map.mean(-1).mean(-1)
        loss = F.kl_div(masked_v_fea.softmax(dim=-1).log(),
                        a_fea.softmax(dim=-1), reduction='sum')
        total_loss += loss
    return total_loss / len(stages)


def test_ms3_matching_loss_is_avsbenchs():
    head = build(match_loss_weight=0.5).eval()
    wake_tpavis(head)
    inputs, batch = feats(), samples(first_frame_only=False)
    losses = head.loss(inputs, batch)
    assert set(losses) == {'loss_bce', 'loss_match'}
    decoded = head.decode(inputs)
    masks = torch.stack([s.gt_masks for s in batch]).float()
    assert losses['loss_bce'].item() == pytest.approx(
        nn.BCELoss()(decoded['logits'].sigmoid(), masks).item(), rel=1e-5)
    # AVSBench's fusion blocks rectify the stage maps in place before the
    # loss reads them.
    v_maps = [F.relu(m) for m in decoded['maps']]
    expected = a_masked_v_simm_loss(decoded['logits'].flatten(0, 1)[:, None],
                                    decoded['audio'], v_maps, range(4))
    assert losses['loss_match'].item() == pytest.approx(
        0.5 * expected.item(), rel=1e-4)


def tpavi_reference(tpavi, x, audio):
    """AVSBench TPAVIModule.forward, mode='dot', with the module's layers."""
    batch_size = x.size(0)
    inter = tpavi.inter_channels
    H, W = x.shape[-2], x.shape[-1]
    audio_temp = tpavi.align_channel(audio)
    audio = audio_temp.permute(0, 2, 1).unsqueeze(-1).unsqueeze(-1)
    audio = audio.repeat(1, 1, 1, H, W)
    g_x = tpavi.g(x).view(batch_size, inter, -1).permute(0, 2, 1)
    theta_x = tpavi.theta(x).view(batch_size, inter, -1).permute(0, 2, 1)
    phi_x = tpavi.phi(audio).view(batch_size, inter, -1)
    f = torch.matmul(theta_x, phi_x)
    y = torch.matmul(f / f.size(-1), g_x)
    y = y.permute(0, 2, 1).contiguous().view(batch_size, inter,
                                             *x.size()[2:])
    z = tpavi.conv_out(y) + x
    z = tpavi.norm(z.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)
    return z, audio_temp


def test_tpavi_is_avsbenchs():
    tpavi = TPAVI(8, 6)
    nn.init.normal_(tpavi.conv_out.bn.weight)
    tpavi.eval()
    x, audio = torch.randn(2, 8, 5, 3, 4), torch.randn(2, 5, 6)
    z, aligned = tpavi(x, audio)
    z_ref, aligned_ref = tpavi_reference(tpavi, x, audio)
    assert torch.allclose(z, z_ref, atol=1e-5)
    assert torch.allclose(aligned, aligned_ref)
    # Zero-initialised BN: the block starts as LayerNorm(x).
    fresh = TPAVI(8, 6).eval()
    assert torch.allclose(
        fresh(x, audio)[0],
        fresh.norm(x.movedim(1, -1)).movedim(-1, 1), atol=1e-6)


def test_aspp_and_residual_unit_are_avsbenchs():
    aspp = SummedASPP(6, 4, (3, 6, 12, 18))
    x = torch.randn(2, 6, 9, 9)
    expected = sum(
        F.conv2d(x, m.conv.weight, m.conv.bias, padding=d, dilation=d)
        for m, d in zip(aspp, (3, 6, 12, 18)))
    assert torch.allclose(aspp(x), expected, atol=1e-6)
    weights = torch.cat([m.conv.weight.flatten() for m in aspp])
    assert weights.std().item() == pytest.approx(0.01, rel=0.2)

    # The in-place ReLU of AVSBench's ResidualConvUnit: the skip carries
    # ReLU(x).
    unit = ResidualConvUnit(4)
    x = torch.randn(2, 4, 5, 5)
    c1, c2 = unit.conv1.conv, unit.conv2.conv
    inner = F.conv2d(F.relu(x), c1.weight, c1.bias, padding=1)
    expected = F.conv2d(F.relu(inner), c2.weight, c2.bias, padding=1)
    assert torch.allclose(unit(x), expected + F.relu(x), atol=1e-6)


def test_initialisation_is_avsbenchs():
    head = build()
    head.init_weights()
    weights = torch.cat(
        [m.conv.weight.flatten() for r in head.reductions for m in r])
    assert weights.std().item() == pytest.approx(0.01, rel=0.2)
    tpavi = head.tpavis[0]
    assert tpavi.conv_out.bn.weight.abs().sum() == 0
    # PyTorch's default for the 1x1x1 convs (bound 1 / sqrt(fan_in)), not
    # mmcv's N(0, 0.01).
    bound = 1 / 16**0.5
    assert tpavi.theta.conv.weight.abs().max() > 0.5 * bound


def test_options_and_clear_errors():
    head = build(reduction='linear', temporal=None, token_heads=0,
                 decode_size=None, mask_size=32)
    assert head.temporal is None and head.token_reader is None
    assert all(isinstance(r, nn.Conv2d) for r in head.reductions)
    assert head(feats()).shape == (2, 5, 32, 32)
    with pytest.raises(ValueError, match='multiple of 32'):
        build(decode_size=40)
    with pytest.raises(ValueError, match="'aspp'"):
        build(reduction='fpn')
    bad = feats()
    bad['visual_maps'][0] = bad['visual_maps'][0][:, :, :8]
    with pytest.raises(ValueError, match='in_channels'):
        build()(bad)
    with pytest.raises(ValueError, match='mask_size'):
        build().loss(feats(), [
            AVDataSample(gt_masks=torch.zeros(5, 8, 8, dtype=torch.uint8),
                         mask_valid=torch.ones(5, dtype=torch.bool))
        ] * 2)


def test_gradients_reach_every_parameter():
    head = build(match_loss_weight=0.5).train()
    wake_tpavis(head)
    losses = head.loss(feats(), samples(first_frame_only=False))
    sum(losses.values()).backward()
    for name, param in head.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def _avsbench_parameters(stages=(192, 384, 768, 1536), visual=1536,
                         audio=768, c=256, c_a=128, d=256, ffn=1024):
    """AVSBench's decoder (ASPP, TPAVI, fusion, output convs) with
    DG-SCT/AVMoE's audio projection and temporal gating
    (AVS/avs_scripts/avs_ms3/model/PVT_AVSModel.py), counted layer by
    layer, plus molt's token reader; without the modules they build and
    never run."""

    def linear(i, o):
        return i * o + o

    def conv(i, o, k):
        return i * o * k * k + o

    def lstm(i, h):  # one bidirectional layer
        return 2 * (4 * h * (i + h) + 8 * h)

    aspp = sum(4 * conv(s, c, 3) for s in stages)
    layer = 4 * d * d + 4 * d + linear(d, ffn) + linear(ffn, d) + 4 * d
    gating = (linear(c, c) + lstm(c_a, d // 2) + lstm(c, d) +
              linear(2 * d, d) + linear(d, d) + 4 * layer + 2 * linear(d, 1))
    # mmcv's conv_out drops the bias before its BN.
    tpavi = (linear(c_a, c) + 2 * c + 3 * conv(c, c // 2, 1) +
             c // 2 * c + 2 * c)
    fusion = 7 * 2 * conv(c, c, 3)  # the deepest block has no skip unit
    output = conv(c, 128, 3) + conv(128, 32, 3) + conv(32, 1, 1)
    tokens = (linear(visual, c) + linear(audio, c) + 2 * c +
              4 * (2 * c + 4 * c * c + 4 * c))
    return (aspp + linear(audio, c_a) + 4 * gating + 4 * tpavi + fusion +
            output + tokens)


def test_full_size_widths():
    head = AVSBenchHead(1536, 768, [192, 384, 768, 1536])
    count = sum(p.numel() for p in head.parameters())
    assert count == _avsbench_parameters() == 56_502_601
