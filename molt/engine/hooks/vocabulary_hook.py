"""Keeps a vocabulary learned from the training split with the run."""
import json
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from molt.registry import HOOKS

__all__ = ['VocabularyHook', 'VocabularyMismatchError']


class VocabularyMismatchError(RuntimeError):
    """A checkpoint was trained with another vocabulary than the data."""


@HOOKS.register_module()
class VocabularyHook(Hook):
    """Saves the training vocabulary next to the checkpoints and refuses to
    pair a checkpoint with a different one.

    * ``before_train``: writes the training dataset's ``metainfo[key]`` to
      ``work_dir/filename`` (JSON), for people and tools outside mmengine.
      Every checkpoint holds it too, as ``meta['dataset_meta'][key]``.
    * A loaded checkpoint (``load_from``/``--resume``/``tools/test.py``)
      that holds a vocabulary must carry the same one as the datasets it
      meets (train, val or test): otherwise answer ids would silently mean
      other answers (mmengine only warns about shape mismatches).

    Args:
        key: The dataset metainfo entry holding the vocabulary.
        filename: File written into the work dir.
    """

    priority = 'VERY_LOW'

    def __init__(self, key: str = 'vocabulary', filename: str = 'vocab.json'):
        self.key = key
        self.filename = filename
        self.checkpoint_vocabulary: Optional[dict] = None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta', {}).get('dataset_meta') or {}
        self.checkpoint_vocabulary = meta.get(self.key)

    def _check(self, dataloader, split: str) -> Optional[dict]:
        """Returns the split's vocabulary after comparing it with the
        loaded checkpoint's."""
        vocabulary = getattr(dataloader.dataset, 'metainfo', {}).get(self.key)
        if (vocabulary is not None and self.checkpoint_vocabulary is not None
                and vocabulary != self.checkpoint_vocabulary):
            raise VocabularyMismatchError(
                f'The loaded checkpoint was trained with another {self.key} '
                f'than the {split} dataset uses ({_describe(vocabulary)} vs. '
                f'{_describe(self.checkpoint_vocabulary)} in the '
                'checkpoint). Evaluate checkpoints with tools/test.py, which '
                "hands the checkpoint's vocabulary to the dataset, or train "
                'on the same training split.')
        return vocabulary

    def before_train(self, runner) -> None:
        vocabulary = self._check(runner.train_dataloader, 'train')
        if vocabulary is None or not is_main_process():
            return
        path = osp.join(runner.work_dir, self.filename)
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(vocabulary, f, indent=1, ensure_ascii=False)
        runner.logger.info(f'Saved the training {self.key} to {path}.')

    def before_val(self, runner) -> None:
        self._check(runner.val_dataloader, 'val')

    def before_test(self, runner) -> None:
        self._check(runner.test_dataloader, 'test')


def _describe(vocabulary) -> str:
    if isinstance(vocabulary, dict):
        return ', '.join(f'{len(v)} {k}' for k, v in vocabulary.items())
    return repr(vocabulary)
