"""MUSIC-AVQA: audio-visual question answering (Li et al., 2022)."""
import json
import os.path as osp
import re
from typing import List, Optional

from mmengine.logging import print_log

from molt.evaluation.functional import AVQA_QUESTION_TYPES
from molt.registry import DATASETS
from .converted_video import ConvertedVideoDataset
from .utils import AnnotationError, require_file
from .vocabulary import QAVocabulary

__all__ = ['MusicAVQADataset', 'read_json_entries', 'load_avqa_questions',
           'UNKNOWN_ANSWER']

#: ``gt_answer`` of a test question whose answer is not in the training
#: vocabulary: no prediction can match it, so it counts as wrong.
UNKNOWN_ANSWER = -1

REQUIRED_FIELDS = ('video_id', 'question_id', 'type', 'question_content',
                   'templ_values', 'anser')
# '<Object>', '<LR>', '<FL>', '<TH>', '<LRer>', '<LL>', '<BA>', ...
PLACEHOLDER = re.compile(r'<[^<>\s]+>')


def read_json_entries(path: str) -> List:
    """Reads a JSON file that must hold a list (one entry per question).

    Raises:
        AnnotationError: The file is not JSON or not a list.
    """
    with open(path, encoding='utf-8') as f:
        try:
            entries = json.load(f)
        except json.JSONDecodeError as error:
            raise AnnotationError(
                f'{path}: not valid JSON ({error}).') from None
    if not isinstance(entries, list):
        raise AnnotationError(f'{path}: expected a JSON list of questions, '
                              f'got a {type(entries).__name__}.')
    return entries


def _decode_list(entry: dict, key: str, where: str) -> list:
    """Decodes a JSON-encoded list field, e.g. ``'["Audio", "Counting"]'``."""
    value = entry[key]
    try:
        decoded = json.loads(value) if isinstance(value, str) else None
    except json.JSONDecodeError:
        decoded = None
    if not isinstance(decoded, list):
        raise AnnotationError(
            f'{where}: field "{key}" must be a JSON-encoded list such as '
            f"'[\"Audio\", \"Counting\"]', got {value!r}.")
    return decoded


def _parse_question(entry, path: str, index: int) -> dict:
    """One official entry -> ``question_id``, ``video_id``,
    ``question_type``, ``question_text`` (placeholders filled) and
    ``answer``; errors name the entry by ``question_id`` (or index)."""
    if not isinstance(entry, dict):
        raise AnnotationError(f'{path}, entry {index}: expected a JSON '
                              f'object, got {type(entry).__name__}.')
    where = (f"{path}, question_id {entry['question_id']}"
             if 'question_id' in entry else f'{path}, entry {index}')
    missing = [key for key in REQUIRED_FIELDS if key not in entry]
    if missing:
        raise AnnotationError(f'{where}: missing field(s) {missing}.')
    kind = _decode_list(entry, 'type', where)
    question_type = '/'.join(map(str, kind))
    if question_type not in AVQA_QUESTION_TYPES:
        raise AnnotationError(
            f'{where}: unknown question type {question_type!r} (field '
            f'"type" {entry["type"]!r}); expected one of '
            f'{AVQA_QUESTION_TYPES}.')
    values = [str(v) for v in _decode_list(entry, 'templ_values', where)]
    content = entry['question_content']
    if not isinstance(content, str):
        raise AnnotationError(f'{where}: "question_content" must be a string.')
    placeholders = PLACEHOLDER.findall(content)
    if len(placeholders) != len(values):
        raise AnnotationError(
            f'{where}: "question_content" {content!r} has '
            f'{len(placeholders)} placeholder(s) {placeholders} but '
            f'"templ_values" has {len(values)} value(s) {values}.')
    # Placeholders are filled in order of appearance.
    fill = iter(values)
    text = PLACEHOLDER.sub(lambda _: next(fill), content)
    if not isinstance(entry['anser'], str):
        raise AnnotationError(f'{where}: "anser" must be a string, got '
                              f'{entry["anser"]!r}.')
    return dict(
        question_id=entry['question_id'],
        video_id=str(entry['video_id']),
        question_type=question_type,
        question_text=text,
        answer=entry['anser'])


def load_avqa_questions(path: str) -> List[dict]:
    """Parses an official ``avqa-*.json`` file.

    Every entry needs ``video_id``, ``question_id``, ``type`` (a
    JSON-encoded ``[modality, kind]`` list), ``question_content`` with
    ``<...>`` placeholders, ``templ_values`` (a JSON-encoded list, one value
    per placeholder, filled in order) and ``anser`` (sic).

    Returns:
        One dict per question with ``question_id``, ``video_id``,
        ``question_type`` (``'Audio-Visual/Existential'`` form),
        ``question_text`` and ``answer``.

    Raises:
        AnnotationError: A malformed entry; the message names the file and
            the ``question_id`` (or the entry's index when it has none).
    """
    return [
        _parse_question(entry, path, index)
        for index, entry in enumerate(read_json_entries(path))
    ]


@DATASETS.register_module()
class MusicAVQADataset(ConvertedVideoDataset):
    """MUSIC-AVQA in the layout written by
    ``tools/dataset_converters/music_avqa.py``::

        data_root/
            avqa-train.json  avqa-val.json  avqa-test.json
            frames/<video_id>/00.jpg ... 59.jpg   (1 fps)
            audio/<video_id>.wav                  (32 kHz mono)

    One sample per question. The ``num_segments`` segments are spread over
    the ``video_seconds`` of the video (seconds 0, 6, ..., 54 by default,
    the peers' sampling); a video shorter than that repeats its last second
    (frames and audio, applied by the loading transforms).

    Vocabularies (:class:`QAVocabulary`) come from the training split only:
    ``vocabulary`` when given (``tools/test.py`` passes the checkpoint's),
    else built from ``vocab_source`` (``avqa-train.json``), so every split
    uses the training ids. They are in ``metainfo['vocabulary']`` (saved in
    every checkpoint as ``meta['dataset_meta']``), with ``num_answers`` and
    ``vocab_size``, which ``tools/train.py``/``tools/test.py`` hand to a
    head that leaves them None. An answer outside the vocabulary is an
    error when training and ``gt_answer = -1`` (counted wrong) in
    ``test_mode``.

    Each sample has ``video_id``, ``question_id``, ``question_type``,
    ``question_text``, ``answer``, ``gt_answer``, ``segment_seconds``,
    ``frame_dir`` and ``audio_path``; :meth:`get_data_info` adds the
    ``vocabulary`` object for :class:`TokenizeQuestion`. Questions about
    videos the converter could not decode are skipped and media files are
    checked at start-up (:class:`ConvertedVideoDataset`).

    Args:
        ann_file: Question file, relative to ``data_root``.
        data_root: Dataset root.
        num_segments: Segments (frames and 1 s audio clips) per sample.
        video_seconds: Length the segments are spread over.
        vocabulary: A saved vocabulary (``dict(answers=[...],
            words=[...])``), or None to build it from ``vocab_source``.
        vocab_source: Training question file the vocabulary is built from,
            relative to ``data_root``.
        test_mode: Evaluation split (out-of-vocabulary answers allowed).
        **kwargs: ``data_prefix``, ``check_files``, ``exclude_file``,
            ``pipeline``, ... (see :class:`ConvertedVideoDataset`).
    """

    NAME = 'MUSIC-AVQA'
    #: Metainfo learned from the training split: tools/test.py passes the
    #: checkpoint's value as the constructor argument of the same name.
    LEARNED_META = ('vocabulary', )

    def __init__(self,
                 ann_file: str = 'avqa-train.json',
                 data_root: str = 'data/music_avqa',
                 num_segments: int = 10,
                 video_seconds: int = 60,
                 vocabulary: Optional[dict] = None,
                 vocab_source: str = 'avqa-train.json',
                 test_mode: bool = False,
                 **kwargs):
        if video_seconds % num_segments:
            raise ValueError(f'video_seconds={video_seconds} must be a '
                             f'multiple of num_segments={num_segments}.')
        step = video_seconds // num_segments
        self.segment_seconds = list(range(0, video_seconds, step))
        self.vocabulary = (None if vocabulary is None else
                           QAVocabulary.from_dict(vocabulary, 'vocabulary'))
        self.vocab_source = vocab_source
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            test_mode=test_mode,
            **kwargs)

    def _build_vocabulary(self, ann_file: str,
                          questions: List[dict]) -> QAVocabulary:
        source = osp.join(self.data_root, self.vocab_source)
        if not (osp.isfile(source) and osp.samefile(source, ann_file)):
            source = require_file(source, 'MUSIC-AVQA training questions '
                                  '(vocab_source)')
            questions = load_avqa_questions(source)
        return QAVocabulary.build((q['question_text'] for q in questions),
                                  (q['answer'] for q in questions))

    def parse_annotations(self) -> List[dict]:
        ann_file = require_file(self.ann_file, 'MUSIC-AVQA question file')
        questions = load_avqa_questions(ann_file)
        if self.vocabulary is None:
            self.vocabulary = self._build_vocabulary(ann_file, questions)
        self._metainfo.update(
            vocabulary=self.vocabulary.to_dict(),
            num_answers=self.vocabulary.num_answers,
            vocab_size=self.vocabulary.vocab_size)
        data_list = [self._sample(q, ann_file) for q in questions]
        unknown = sum(s['gt_answer'] == UNKNOWN_ANSWER for s in data_list)
        if unknown:
            print_log(
                f'{ann_file}: {unknown} question(s) have answers outside the '
                'training vocabulary; they count as wrong.',
                logger='current')
        return data_list

    def _sample(self, question: dict, ann_file: str) -> dict:
        gt_answer = self.vocabulary.answer_id(question['answer'])
        if gt_answer is None:
            if not self.test_mode:
                raise AnnotationError(
                    f"{ann_file}, question_id {question['question_id']}: "
                    f"answer {question['answer']!r} is not in the training "
                    'vocabulary; a model cannot learn it (the vocabulary '
                    f'comes from {self.vocab_source} or the checkpoint).')
            gt_answer = UNKNOWN_ANSWER
        return dict(
            question,
            gt_answer=gt_answer,
            segment_seconds=list(self.segment_seconds),
            **self.media_paths(question['video_id']))

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info['vocabulary'] = self.vocabulary
        return info
