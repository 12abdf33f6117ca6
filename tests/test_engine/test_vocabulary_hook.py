import json
import logging
from types import SimpleNamespace

import pytest

from molt.engine.hooks import VocabularyHook
from molt.engine.hooks.vocabulary_hook import VocabularyMismatchError

VOCABULARY = dict(answers=['no', 'yes'], words=['<pad>', '<unk>', 'is'])


def runner(tmp_path, vocabulary=VOCABULARY):
    loader = SimpleNamespace(
        dataset=SimpleNamespace(metainfo=dict(vocabulary=vocabulary)))
    return SimpleNamespace(
        work_dir=str(tmp_path), logger=logging.getLogger('test'),
        train_dataloader=loader, val_dataloader=loader,
        test_dataloader=loader)


def checkpoint(vocabulary):
    return dict(meta=dict(dataset_meta=dict(vocabulary=vocabulary)))


def test_writes_the_training_vocabulary(tmp_path):
    VocabularyHook().before_train(runner(tmp_path))
    with open(tmp_path / 'vocab.json') as f:
        assert json.load(f) == VOCABULARY


def test_refuses_a_checkpoint_with_another_vocabulary(tmp_path):
    hook = VocabularyHook()
    hook.after_load_checkpoint(None, checkpoint(VOCABULARY))
    hook.before_test(runner(tmp_path))  # the same: fine
    other = dict(VOCABULARY, answers=['no', 'purple', 'yes'])
    hook.after_load_checkpoint(None, checkpoint(other))
    for check in (hook.before_train, hook.before_val, hook.before_test):
        with pytest.raises(VocabularyMismatchError, match='3 answers'):
            check(runner(tmp_path))


def test_checkpoints_without_a_vocabulary_are_not_checked(tmp_path):
    hook = VocabularyHook()
    hook.after_load_checkpoint(None, dict(state_dict={}))
    hook.before_test(runner(tmp_path))
    hook.after_load_checkpoint(None, checkpoint(VOCABULARY))
    hook.before_test(runner(tmp_path, vocabulary=None))
