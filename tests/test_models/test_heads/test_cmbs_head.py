"""CMBSHead: shapes, CMBS's losses against the reference scripts' own
computation, the forward against DG-SCT's and CMBS's (the relation layers
themselves: tests/test_models/test_layers/test_temporal.py), predictions
in molt's AVE contract, and the peers' widths at full size."""
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from molt.evaluation.metrics import AVEAccuracy
from molt.models.heads import CMBSHead
from molt.models.heads.cmbs_head import topk_mean
from molt.structures import AVDataSample

BACKGROUND = 28


def build(**kwargs):
    cfg = dict(visual_dims=24, audio_dims=12, visual_fc_dims=16,
               audio_fc_dims=8, d_model=16, ffn_dims=32, num_heads=2)
    cfg.update(kwargs)
    return CMBSHead(**cfg)


def feats(batch=3, steps=10, tokens=4):
    return dict(
        visual=torch.randn(batch, steps, tokens, 24),
        audio=torch.randn(batch, steps, tokens, 12))


def samples():
    """An event in segments 2-6 (class 5), one in 0-9 (class 17) and a
    video of background only."""
    labels = torch.full((3, 10), BACKGROUND)
    labels[0, 2:7] = 5
    labels[1] = 17
    return [AVDataSample(gt_label=row) for row in labels]


def test_shapes_and_prediction_contract():
    head = build().eval()
    inputs = feats()
    with torch.no_grad():
        outputs = head(inputs)
        predicted = head.predict(inputs, samples())
    assert outputs['event_logits'].shape == (3, 10)
    assert outputs['class_logits'].shape == (3, 28)
    assert outputs['av_logits'].shape == (3, 28)
    assert outputs['gate'].shape == (3, 10)
    for sample, relevance, scores in zip(predicted, outputs['event_logits'],
                                         outputs['class_logits']):
        label = sample.pred_label
        assert label.shape == (10, ) and label.dtype == torch.long
        # compute_accuracy_supervised: the video's class where the
        # relevance passes 0.5, background elsewhere.
        expected = torch.where(relevance.sigmoid() > 0.5, scores.argmax(),
                               BACKGROUND)
        assert torch.equal(label, expected)
        assert torch.allclose(sample.pred_event_score, relevance.sigmoid())
    metric = AVEAccuracy()
    metric.process(None, [s.to_dict() for s in predicted])
    accuracy = metric.compute_metrics(metric.results)['accuracy']
    labels = torch.stack([s.gt_label for s in predicted])
    preds = torch.stack([s.pred_label for s in predicted])
    assert accuracy == pytest.approx(100 * (preds == labels).float().mean())


def test_losses_are_the_reference_scripts():
    """supv_main.py / DG-SCT main_trans.py on one-hot labels (B, T, 29)."""
    head = build().eval()
    inputs, batch = feats(), samples()
    losses = head.loss(inputs, batch)
    assert set(losses) == {'loss_event', 'loss_class', 'loss_av',
                           'loss_gate'}
    out = head(inputs)

    labels = F.one_hot(torch.stack([s.gt_label for s in batch]), 29).float()
    labels_foreground = labels[:, :, :-1]
    labels_bce, labels_evn = labels_foreground.max(-1)
    labels_event, _ = labels_evn.max(-1)
    bce, ce = nn.BCEWithLogitsLoss(), nn.CrossEntropyLoss()
    expected = dict(
        loss_event=bce(out['event_logits'], labels_bce),
        loss_gate=bce(out['gate'], labels_bce),
        loss_av=ce(out['av_logits'], labels_event),
        loss_class=ce(out['class_logits'], labels_event))
    assert labels_event.tolist() == [5, 17, 0]
    for key, value in expected.items():
        assert losses[key].item() == pytest.approx(value.item(), rel=1e-6)

    # AVMoE trains without the gate term.
    assert 'loss_gate' not in build(gate_loss_weight=0).loss(inputs, batch)


def test_topk_mean_and_av_score_in_the_class_logits():
    scores = torch.tensor([[[1.], [5.], [3.], [2.], [4.]]])
    assert topk_mean(scores, 2).item() == pytest.approx(4.5)
    assert topk_mean(scores, 9).item() == pytest.approx(3.0)

    head = build().eval()
    inputs = feats()
    with torch.no_grad():
        with_av = head(inputs)
        head.av_weight = 0
        without = head(inputs)
    assert torch.allclose(with_av['class_logits'] - without['class_logits'],
                          0.3 * with_av['av_logits'], atol=1e-6)


def _itrm(affine, layers, feature):
    feature = affine(feature)
    for layer in layers:
        feature = layer(feature)
    return feature


def _cmra(affine, layers, query_feature, memory_feature):
    tgt = affine(query_feature)
    for layer in layers:
        memory = torch.cat([memory_feature, tgt], dim=1)
        tgt = layer(tgt, key=memory, value=memory)
    return tgt


def test_forward_is_dg_scts_temporal_attention_and_cmbs():
    """DG-SCT AVE/nets/net_trans.py, TemporalAttention.forward then
    CMBS.forward (batch-first), written out with the head's layers."""
    head = build().eval()
    inputs = feats()
    t = head.temporal
    with torch.no_grad():
        # TemporalAttention
        audio_feature = t.audio_fc(inputs['audio'].mean(2))
        visual_feature = F.relu(t.visual_fc(inputs['visual'].mean(2)))
        audio_rnn_output1, _ = t.audio_lstm(audio_feature)
        visual_rnn_output1, _ = t.visual_lstm(visual_feature)
        video_key_value_feature = _itrm(t.visual_in, t.visual_encoder,
                                        visual_rnn_output1)
        audio_query_output = _cmra(t.audio_query_in, t.audio_decoder,
                                   audio_rnn_output1, video_key_value_feature)
        audio_key_value_feature = _itrm(t.audio_in, t.audio_encoder,
                                        audio_rnn_output1)
        video_query_output = _cmra(t.visual_query_in, t.visual_decoder,
                                   visual_rnn_output1, audio_key_value_feature)
        audio_gate = t.audio_gate(audio_key_value_feature).sigmoid()
        video_gate = t.visual_gate(video_key_value_feature).sigmoid()
        audio_visual_gate = audio_gate * video_gate
        video_query_output = (video_query_output +
                              audio_gate * video_query_output * 0.1)
        audio_query_output = (audio_query_output +
                              video_gate * audio_query_output * 0.1)
        # CMBS
        video_cas = head.visual_cas(video_query_output)
        audio_cas = head.audio_cas(audio_query_output)
        sorted_scores_video, _ = video_cas.sort(descending=True, dim=1)
        score_video = torch.mean(sorted_scores_video[:, :4, :], dim=1)
        sorted_scores_audio, _ = audio_cas.sort(descending=True, dim=1)
        score_audio = torch.mean(sorted_scores_audio[:, :4, :], dim=1)
        av_score = (score_video + score_audio) / 2
        fused_content = (video_query_output + audio_query_output) / 2
        is_event_scores = head.event_fc(fused_content)
        event_scores = head.class_fc(fused_content.max(1).values)
        event_scores = event_scores + 0.3 * av_score

        out = head(inputs)
    assert torch.allclose(out['event_logits'], is_event_scores.squeeze(-1),
                          atol=1e-5)
    assert torch.allclose(out['class_logits'], event_scores, atol=1e-5)
    assert torch.allclose(out['av_logits'], av_score, atol=1e-5)
    assert torch.allclose(out['gate'], audio_visual_gate.squeeze(-1),
                          atol=1e-6)


def test_gradients_reach_every_parameter():
    head = build().train()
    losses = head.loss(feats(), samples())
    sum(losses.values()).backward()
    for name, param in head.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def _cmbs_parameters(visual=1536, audio=768, v_fc=512, a_fc=128, d=256,
                     ffn=1024, classes=28):
    """DG-SCT's TemporalAttention + CMBS (AVE/nets/net_trans.py), counted
    layer by layer, less what they build and never run (the decoders'
    self-attention, AVInter/VAInter, video_norm/audio_norm)."""

    def linear(i, o):
        return i * o + o

    def lstm(i, h):  # one bidirectional layer
        return 2 * (4 * h * (i + h) + 8 * h)

    attention = 4 * d * d + 4 * d
    layer = attention + linear(d, ffn) + linear(ffn, d) + 4 * d
    return (linear(visual, v_fc) + linear(audio, a_fc) +
            lstm(a_fc, d // 2) + lstm(v_fc, d) +
            linear(2 * d, d) + 2 * layer +  # visual ITRM
            linear(d, d) + 2 * layer +  # audio ITRM
            2 * linear(d, 1) +  # gates
            linear(2 * d, d) + layer + linear(d, d) + layer +  # CMRA
            2 * linear(d, classes) + linear(d, 1) + linear(d, classes))


def test_full_size_has_the_peers_widths():
    head = CMBSHead(1536, 768)
    count = sum(p.numel() for p in head.parameters())
    assert count == _cmbs_parameters() == 7_881_687
