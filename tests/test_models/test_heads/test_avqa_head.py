import pytest
import torch

from molt.models.heads import AVQAHead
from molt.models.heads.avqa_head import QuestionEncoder
from molt.structures import AVDataSample


def build(**kwargs):
    cfg = dict(visual_dims=16, audio_dims=8, num_answers=5, vocab_size=20,
               hidden_dims=12, num_heads=2)
    cfg.update(kwargs)
    return AVQAHead(**cfg)


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


def test_shapes_loss_and_predict():
    head = build()
    assert head(feats())['answer_logits'].shape == (3, 5)
    losses = head.loss(feats(), samples())
    assert set(losses) == {'loss_answer'}
    losses['loss_answer'].backward()
    assert head.question_encoder.embedding.weight.grad.abs().sum() > 0
    head.eval()
    inputs = feats()
    with torch.no_grad():
        predicted = head.predict(inputs, samples())
        logits = head(inputs)['answer_logits']
    for sample, row in zip(predicted, logits):
        assert sample.pred_score.shape == (5, )
        assert sample.pred_score.sum() == pytest.approx(1.0)
        assert sample.pred_answer == row.argmax()


def test_match_loss_switch():
    assert build().matcher is None
    head = build(match_loss_weight=0.5)
    losses = head.loss(feats(), samples())
    assert set(losses) == {'loss_answer', 'loss_match'}
    assert losses['loss_match'] > 0
    losses['loss_match'].backward()
    assert all(p.grad is not None for p in head.matcher.parameters())


def test_match_loss_never_pairs_a_video_with_itself():
    head = build(match_loss_weight=1.0)
    # Every rolled pair is the same video: nothing to contrast.
    same = head.loss(feats(), samples(('v', 'v', 'v')))
    assert same['loss_match'] == 0
    with pytest.raises(KeyError, match='video_id'):
        head.loss(feats(), [AVDataSample(gt_answer=torch.tensor(0))] * 3)


def test_question_encoder_ignores_padding():
    encoder = QuestionEncoder(vocab_size=10, embed_dims=6, out_dims=4)
    short = torch.tensor([[3, 4, 5, 0, 0]])
    longer = torch.tensor([[3, 4, 5, 0, 0, 0, 0, 0]])
    torch.testing.assert_close(encoder(short), encoder(longer))
    assert not torch.allclose(encoder(short), encoder(torch.tensor([[3, 4]])))


def test_vocabulary_sizes_are_required():
    with pytest.raises(ValueError, match='AVQAHead: num_answers left None'):
        build(num_answers=None)
    with pytest.raises(ValueError, match='AVQAHead: vocab_size left None'):
        build(vocab_size=None)

