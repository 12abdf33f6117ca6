"""MUSIC-AVQA: audio-visual question answering (Li et al., 2022)."""
import ast
import json
import os.path as osp
import re
import unicodedata
from typing import List, Optional, Tuple

from mmengine.logging import print_log

from molt.evaluation.functional import AVQA_QUESTION_TYPES
from molt.registry import DATASETS
from molt.utils.run_report import report_data_issue
from .converted_dataset import ConvertedVideoDataset
from .utils import AnnotationError, log_notes, open_annotation, require_file
from .vocabulary import QAVocabulary, question_words

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
    """Reads a JSON file that must hold a list (one entry per question); a
    UTF-8 byte-order mark is ignored.

    Raises:
        AnnotationError: The file is not JSON or not a list.
    """
    with open_annotation(path) as f:
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
    """Decodes a list field written as a Python/JSON literal, e.g.
    ``'["Audio", "Counting"]'``, with ``ast.literal_eval`` like the official
    code."""
    value = entry[key]
    try:
        decoded = ast.literal_eval(value) if isinstance(value, str) else None
    except (ValueError, SyntaxError):
        decoded = None
    if not isinstance(decoded, list):
        raise AnnotationError(
            f'{where}: field "{key}" must be a list literal such as '
            f"'[\"Audio\", \"Counting\"]', got {value!r}.")
    return decoded


def _fill_placeholders(content: str, values: List[str]) -> str:
    """The question as text with its placeholders filled in order (for
    display; the model reads :func:`question_words`)."""
    fill = iter(values)
    return PLACEHOLDER.sub(lambda match: next(fill, match.group(0)),
                           content.rstrip())


def _parse_question(entry, path: str, index: int) -> Tuple[dict, List[str]]:
    """One official entry -> ``question_id``, ``video_id``,
    ``question_type``, ``question_text`` (placeholders filled),
    ``question_words`` (the official words) and ``answer``, plus notes on
    what the official reading accepts but looks wrong; errors name the
    entry by ``question_id`` (or index)."""
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
    if not isinstance(content, str) or not content.strip():
        raise AnnotationError(
            f'{where}: "question_content" must be a non-empty string, got '
            f'{content!r}.')
    try:
        words = question_words(content, values)
    except ValueError as error:
        raise AnnotationError(f'{where}: {error}.') from None
    if not isinstance(entry['anser'], str):
        raise AnnotationError(f'{where}: "anser" must be a string, got '
                              f'{entry["anser"]!r}.')
    notes = []
    used = sum('<' in word for word in content.split(' '))
    if used < len(values):
        notes.append(f'{where}: {content!r} uses {used} of the template '
                     f'values {values}; the others are ignored, as the '
                     'official code does.')
    final = content.rstrip()[-1]
    if not unicodedata.category(final).startswith('P'):
        notes.append(f'{where}: {content!r} does not end with a punctuation '
                     f'mark; its last character {final!r} is dropped, as the '
                     f'official code does (last word {words[-1]!r}).')
    question = dict(
        question_id=entry['question_id'],
        video_id=str(entry['video_id']),
        question_type=question_type,
        question_text=_fill_placeholders(content, values),
        question_words=words,
        answer=entry['anser'])
    return question, notes


def load_avqa_questions(path: str) -> Tuple[List[dict], List[str]]:
    """Parses an official ``avqa-*.json`` file the way the official ST-AVQA
    code reads it.

    Every entry needs ``video_id``, ``question_id``, ``type`` (a list
    literal ``[modality, kind]``), ``question_content`` with ``<...>``
    placeholders, ``templ_values`` (a list literal, one value per
    placeholder, filled in order) and ``anser`` (sic). The question's words
    are the official ones (:func:`~molt.datasets.vocabulary.question_words`).

    Returns:
        One dict per question with ``question_id``, ``video_id``,
        ``question_type`` (``'Audio-Visual/Existential'`` form),
        ``question_text``, ``question_words`` and ``answer``; and one note
        per entry the official reading accepts but that looks wrong (unused
        template values, no final punctuation mark).

    Raises:
        AnnotationError: A malformed entry; the message names the file and
            the ``question_id`` (or the entry's index when it has none).
    """
    questions, notes = [], []
    for index, entry in enumerate(read_json_entries(path)):
        question, entry_notes = _parse_question(entry, path, index)
        questions.append(question)
        notes += entry_notes
    return questions, notes


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
    (frames and audio, applied by the loading transforms; reported at
    start-up, see :class:`ConvertedVideoDataset`).

    Questions are read like the official ST-AVQA code reads them
    (:mod:`molt.datasets.vocabulary`): its words (split on spaces, final
    ``?``/``？`` dropped, placeholders replaced by ``templ_values``, case
    kept), its answer ids (first appearance in the training file) and its
    word ids (``<pad>`` = 0, then first appearance; molt adds ``<unk>``
    last). Entries the official reading accepts but that look wrong
    (unused template values, no final punctuation mark) are kept and logged
    once, naming each.

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
    ``question_text`` (placeholders filled, for display),
    ``question_words``, ``answer``, ``gt_answer``, ``segment_seconds``,
    ``frame_dir`` and ``audio_path``; :meth:`get_data_info` adds the
    ``vocabulary`` object for :class:`TokenizeQuestion`. Questions about
    videos the converter could not decode are skipped and media files are
    checked at start-up (:class:`ConvertedVideoDataset`).

    Args:
        ann_file: Question file, relative to ``data_root``.
        data_root: Dataset root.
        num_segments: Segments (frames and 1 s audio clips) per sample.
        video_seconds: Length the segments are spread over.
        vocabulary: A saved vocabulary (:meth:`QAVocabulary.to_dict`), or
            None to build it from ``vocab_source``.
        vocab_source: Training question file the vocabulary is built from,
            relative to ``data_root``.
        lowercase_questions: Lower-case the question words when building
            the vocabulary (an option; the official vocabulary is
            case-sensitive). A given ``vocabulary`` records its own choice
            and this argument is then ignored.
        test_mode: Evaluation split (out-of-vocabulary answers allowed).
        **kwargs: ``data_prefix``, ``check_files``, ``exclude_file``,
            ``pipeline``, ... (see
            :class:`ConvertedVideoDataset`).
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
                 lowercase_questions: bool = False,
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
        self.lowercase_questions = lowercase_questions
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
            questions, _ = load_avqa_questions(source)
        return QAVocabulary.build((q['question_words'] for q in questions),
                                  (q['answer'] for q in questions),
                                  self.lowercase_questions)

    def parse_annotations(self) -> List[dict]:
        ann_file = require_file(self.ann_file, 'MUSIC-AVQA question file')
        questions, notes = load_avqa_questions(ann_file)
        log_notes(notes, ann_file)
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
        self._report_unreadable_questions(data_list, ann_file)
        return data_list

    def _report_unreadable_questions(self, data_list: List[dict],
                                     ann_file: str, shown: int = 10) -> None:
        """Reports the questions none of whose words the vocabulary holds:
        the model reads them as all ``<unk>`` (``tools/infer.py`` refuses
        such a question; a split is scored as it is, and said so)."""
        unreadable = [
            str(info['question_id']) for info in data_list
            if info['question_words'] and all(
                i == self.vocabulary.unk_id for i in self.vocabulary.encode(
                    info['question_words'], len(info['question_words'])))
        ]
        if not unreadable:
            return
        more = (f' ... (+{len(unreadable) - shown} more)'
                if len(unreadable) > shown else '')
        report_data_issue(
            f'{ann_file}: {len(unreadable)} question(s) have no word of the '
            'training vocabulary; the model reads them as all <unk> and '
            'they are scored as they are',
            'question_id ' + ', '.join(unreadable[:shown]) + more)

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
