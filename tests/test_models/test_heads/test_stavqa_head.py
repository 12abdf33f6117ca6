"""STAVQAHead: shapes, ST-AVQA's grounding and losses against the
reference's own computation, the AVQA contract, and the peers' widths at
full size."""
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from molt.models.heads import STAVQAHead
from molt.structures import AVDataSample


def build(**kwargs):
    cfg = dict(visual_dims=16, audio_dims=8, num_answers=5, vocab_size=20,
               num_heads=2, match_dims=(12, 8, 4))
    cfg.update(kwargs)
    return STAVQAHead(**cfg)


def feats(batch=3, steps=10, tokens=4):
    return dict(
        visual=torch.randn(batch, steps, tokens, 16),
        audio=torch.randn(batch, steps, tokens, 8),
        question=torch.randint(1, 20, (batch, 14)))


def samples(video_ids=('a', 'b', 'c')):
    return [
        AVDataSample(gt_answer=torch.tensor(i % 5), metainfo=dict(video_id=v))
        for i, v in enumerate(video_ids)
    ]


def test_shapes_and_prediction_contract():
    head = build().eval()
    inputs = feats()
    with torch.no_grad():
        logits = head(inputs)['answer_logits']
        predicted = head.predict(inputs, samples())
    assert logits.shape == (3, 5)
    for sample, row in zip(predicted, logits):
        assert sample.pred_score.shape == (5, )
        assert sample.pred_score.sum() == pytest.approx(1.0)
        assert sample.pred_answer == row.argmax()
    extra = head.example_inputs(2)
    assert extra['question'].shape == (2, 14)
    assert extra['question'].max() < head.vocab_size


def test_vocabulary_sizes_must_be_filled():
    with pytest.raises(ValueError, match='num_answers, vocab_size'):
        STAVQAHead(16, 8)


def test_grounding_is_st_avqas():
    """net_avst.py: cosine similarity of the normalised tokens and audio,
    softmax over positions, the grounded normalised tokens next to the
    un-normalised mean, tanh, fc_gl."""
    head = build().eval()
    tokens, audio = torch.randn(2, 3, 4, 16), torch.randn(2, 3, 16)
    visual_feat = tokens.flatten(0, 1)  # [B*T, HxW, C]
    before = visual_feat.mean(1)
    visual_posi = F.normalize(visual_feat, dim=2)
    audio_aa = F.normalize(audio.flatten(0, 1).unsqueeze(-1), dim=1)
    x2_p = F.softmax(torch.matmul(visual_posi, audio_aa).squeeze(-1),
                     dim=-1).unsqueeze(-2)
    grounded = torch.matmul(x2_p, visual_posi).squeeze(1)
    expected = head.grounding_fc(torch.tanh(torch.cat([before, grounded],
                                                      -1)))
    assert torch.allclose(head.ground(tokens, audio).flatten(0, 1), expected,
                          atol=1e-6)

    # A sharper softmax is an option, off by default.
    head.grounding_scale = 10.0
    assert not torch.allclose(head.ground(tokens, audio).flatten(0, 1),
                              expected, atol=1e-4)


def _question_attention(block, xq, feat):
    """net_avst.py: attention with the question as query, then
    ``norm(att + linear2(dropout(relu(linear1(att)))))``."""
    linear1, linear2 = block.ffn[0], block.ffn[3]
    feat_att = block.attn(xq, feat, feat)[0].squeeze(1)
    src = linear2(F.relu(linear1(feat_att)))
    return block.norm(feat_att + src)


def test_answer_path_is_st_avqas():
    """net_avst.py forward after the grounding (eval mode), written out
    with the head's layers."""
    head = build().eval()
    inputs = feats()
    with torch.no_grad():
        qst_feature = head.question_encoder(inputs['question'])
        xq = qst_feature.unsqueeze(1)
        audio_feat_be = head.audio_mlp[2](
            F.relu(head.audio_mlp[0](inputs['audio'].mean(2))))
        visual_feat_grd_be = head.ground(inputs['visual'], audio_feat_be)
        visual_feat_att = _question_attention(head.visual_attn, xq,
                                              visual_feat_grd_be)
        audio_feat_att = _question_attention(head.audio_attn, xq,
                                             audio_feat_be)
        feat = torch.cat(
            (audio_feat_att + audio_feat_be.mean(dim=-2),
             visual_feat_att + visual_feat_grd_be.mean(dim=-2)), dim=-1)
        feat = head.fusion_fc(torch.tanh(feat))
        combined_feature = torch.tanh(torch.mul(feat, qst_feature))
        out_qa = head.answer_fc(combined_feature)
        logits = head(inputs)['answer_logits']
    assert torch.allclose(logits, out_qa, atol=1e-5)


def batch_organize(out_match_posi, out_match_nega):
    """main_avst.py's pairing: positive (label 1) and negative (label 0)
    rows interleaved."""
    out_match = torch.zeros(out_match_posi.shape[0] * 2,
                            out_match_posi.shape[1])
    batch_labels = torch.zeros(out_match_posi.shape[0] * 2)
    for i in range(out_match_posi.shape[0]):
        out_match[i * 2, :] = out_match_posi[i, :]
        out_match[i * 2 + 1, :] = out_match_nega[i, :]
        batch_labels[i * 2] = 1
        batch_labels[i * 2 + 1] = 0
    return out_match, batch_labels


def test_losses_are_the_reference_scripts():
    """loss = CE(answers) + 0.5 * CE(batch_organize(posi, nega)), the
    negative visual being another video's (here the next sample's)."""
    head = build().eval()
    inputs, batch = feats(), samples()
    losses = head.loss(inputs, batch)
    assert set(losses) == {'loss_answer', 'loss_match'}

    answers = torch.stack([s.gt_answer for s in batch])
    criterion = nn.CrossEntropyLoss()
    assert losses['loss_answer'].item() == pytest.approx(
        criterion(head(inputs)['answer_logits'], answers).item(), rel=1e-6)

    audio = head.audio_mlp(inputs['audio'].mean(2))
    nega_tokens = torch.cat([inputs['visual'][1:], inputs['visual'][:1]])
    posi = head.matcher(
        torch.cat([audio, head.ground(inputs['visual'], audio)], -1))
    nega = head.matcher(torch.cat([audio, head.ground(nega_tokens, audio)],
                                  -1))
    out_match, match_label = batch_organize(
        posi.flatten(0, 1), nega.flatten(0, 1))
    expected = 0.5 * criterion(out_match, match_label.long())
    assert losses['loss_match'].item() == pytest.approx(expected.item(),
                                                        rel=1e-5)


def test_match_loss_never_pairs_a_video_with_itself():
    head = build().eval()
    inputs = feats()
    # Samples 0 and 1 ask about one video: sample 0 has no negative.
    match = head.match_logits(inputs, head._streams(inputs), ['a', 'a', 'b'])
    assert match['positive'].shape == (30, 2)
    assert match['negative'].shape == (20, 2)
    same = head.loss(inputs, samples(('a', 'a', 'a')))
    assert same['loss_match'].item() == 0
    with pytest.raises(KeyError, match='video_id'):
        head.loss(inputs, [AVDataSample(gt_answer=torch.tensor(0))] * 3)
    assert build(match_loss_weight=0).matcher is None


def test_gradients_reach_every_parameter():
    head = build().train()
    losses = head.loss(feats(), samples())
    sum(losses.values()).backward()
    for name, param in head.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def _stavqa_parameters(width=1536, audio=768, answers=42, words=93):
    """DG-SCT's AVQA_Fusion_Net head (AVQA/net_grd_avst/net_avst.py),
    counted layer by layer, less the unused fc_a1_pure/fc_a2_pure."""

    def linear(i, o):
        return i * o + o

    attention = 4 * width * width + 4 * width
    question = (words * width + 4 * width * 2 * width + 8 * width +
                linear(2 * width, width))
    return (question + linear(audio, width) + linear(width, width) +
            linear(2 * width, width) +  # fc_gl
            2 * (attention + 2 * linear(width, width) + 2 * width) +
            linear(2 * width, width) + linear(width, answers) +  # fusion, ans
            linear(2 * width, 512) + linear(512, 256) + linear(256, 128) +
            linear(128, 2))


def test_full_size_has_the_peers_widths():
    head = STAVQAHead(1536, 768, num_answers=42, vocab_size=93)
    count = sum(p.numel() for p in head.parameters())
    assert count == _stavqa_parameters() == 66_870_444
