"""AVE: audio-visual event localisation (Tian et al., 2018)."""
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np

from molt.registry import DATASETS
from .converted_dataset import ConvertedVideoDataset
from .utils import AnnotationError, log_notes, open_annotation, require_file

__all__ = ['AVEDataset', 'AVE_CLASSES', 'AVERow', 'read_ave_rows']

#: The 28 events, in the release's order (first appearance in
#: Annotations.txt); label 28 is background.
AVE_CLASSES = (
    'Church bell', 'Male speech, man speaking', 'Bark',
    'Fixed-wing aircraft, airplane', 'Race car, auto racing',
    'Female speech, woman speaking', 'Helicopter', 'Violin, fiddle', 'Flute',
    'Ukulele', 'Frying (food)', 'Truck', 'Shofar', 'Motorcycle',
    'Acoustic guitar', 'Train horn', 'Clock', 'Banjo', 'Goat',
    'Baby cry, infant cry', 'Bus', 'Chainsaw', 'Cat', 'Horse',
    'Toilet flush', 'Rodents, rats, mice', 'Accordion', 'Mandolin')

HEADER = 'Category&VideoID&Quality&StartTime&EndTime'


@dataclass(frozen=True)
class AVERow:
    """One row of an AVE annotation file.

    Attributes:
        where: ``'<file>:<line>'``, for messages.
        category: Event class name (one of the dataset's classes).
        video_id: YouTube id (may start with ``'-'``).
        quality: The release's quality field (``'good'`` throughout).
        start: First event second, ``StartTime``.
        end: End of the event (exclusive), ``EndTime``; ``start == end`` is
            an empty event (every segment is background).
    """
    where: str
    category: str
    video_id: str
    quality: str
    start: int
    end: int


def _parse_row(line: str, where: str, classes: Sequence[str],
               num_segments: int) -> AVERow:
    fields = line.split('&')
    if len(fields) != 5:
        raise AnnotationError(
            f'{where}: expected 5 "&"-separated fields ({HEADER}), got '
            f'{len(fields)}: {line!r}')
    category, video_id, quality, start, end = fields
    if category not in classes:
        raise AnnotationError(
            f'{where}: unknown category {category!r}: {line!r}')
    if not video_id:
        raise AnnotationError(f'{where}: empty VideoID: {line!r}')
    try:
        start, end = int(start), int(end)
    except ValueError:
        raise AnnotationError(
            f'{where}: StartTime/EndTime must be integers: {line!r}'
        ) from None
    if not 0 <= start <= end <= num_segments:
        raise AnnotationError(
            f'{where}: need 0 <= StartTime <= EndTime <= {num_segments}, '
            f'got {start}..{end}: {line!r}')
    return AVERow(where, category, video_id, quality, start, end)


def read_ave_rows(path: str,
                  classes: Sequence[str] = AVE_CLASSES,
                  num_segments: int = 10) -> Tuple[List[AVERow], List[str]]:
    """Reads an AVE annotation file as the official code reads it.

    Rows are ``Category&VideoID&Quality&StartTime&EndTime``; blank lines and
    the header of ``Annotations.txt`` are skipped, and a UTF-8 byte-order
    mark is ignored. The official labels are one-hot over the seconds
    ``[StartTime, EndTime)`` with background elsewhere, so a row with
    ``StartTime == EndTime`` (the release has one:
    ``Church bell&VWi2ENBuTbw&good&0&0``, ``Annotations.txt`` line 28 and
    ``trainSet.txt`` line 64) is a video of background only: it is kept,
    and noted. Both the dataset and the converter read rows here.

    Args:
        path: The annotation file.
        classes: The event classes a row may name.
        num_segments: Seconds per video; times must lie in
            ``0..num_segments``.

    Returns:
        The rows in file order, and one note per irregular row accepted
        (``'<file>:<line>: <row>: <what was done>'``).

    Raises:
        AnnotationError: A row no reading makes sense of (wrong field
            count, empty id, unknown category, non-integer times, times
            outside ``0..num_segments``, start after end); the message
            names ``<file>:<line>``.
    """
    rows, notes = [], []
    with open_annotation(path) as f:
        for line_no, line in enumerate(f, 1):
            line = line.strip()
            if not line or line == HEADER:
                continue
            row = _parse_row(line, f'{path}:{line_no}', classes,
                             num_segments)
            if row.start == row.end:
                notes.append(
                    f'{row.where}: {line!r} has an empty event interval '
                    f'(StartTime == EndTime == {row.start}); read as '
                    f'{num_segments} background segments, as the official '
                    'one-hot labels over [StartTime, EndTime) give.')
            rows.append(row)
    return rows, notes


@DATASETS.register_module()
class AVEDataset(ConvertedVideoDataset):
    """AVE in the layout written by ``tools/dataset_converters/ave.py``::

        data_root/
            Annotations.txt  trainSet.txt  valSet.txt  testSet.txt
            frames/<video_id>/00.jpg ... 09.jpg   (1 fps)
            audio/<video_id>.wav                  (32 kHz mono)

    Each row of the split file (``Category&VideoID&Quality&StartTime&
    EndTime``, Annotations.txt's header optional) is one sample; a video id
    may appear in several rows. Segment ``t`` (second ``[t, t+1)``) carries
    the row's event when ``StartTime <= t < EndTime`` and background
    (label 28) otherwise, giving ``gt_label`` of shape ``(num_segments,)``
    over 29 classes: the official labels. Rows are read by
    :func:`read_ave_rows`, as the converter reads them: the release's row
    with an empty interval (``StartTime == EndTime``) is ten background
    segments, logged once at start-up; a row no reading makes sense of
    fails naming ``<file>:<line>``.

    Videos shorter than ``num_segments`` seconds repeat their last second
    (frames and audio), applied by the loading transforms; such samples,
    and those whose frames and audio differ in length, are logged at
    start-up and kept (their last second repeats).

    Rows of videos the converter could not decode are skipped and media
    files are checked at start-up (:class:`ConvertedVideoDataset`).

    Args:
        ann_file: Split file, relative to ``data_root``.
        data_root: Dataset root.
        num_segments: Segments (seconds) per video.
        **kwargs: ``data_prefix``, ``check_files``, ``exclude_file``,
            ``pipeline``, ``test_mode``, ... (see
            :class:`ConvertedVideoDataset`).
    """

    METAINFO = dict(classes=AVE_CLASSES, background='background')
    NAME = 'AVE'

    def __init__(self,
                 ann_file: str = 'trainSet.txt',
                 data_root: str = 'data/ave',
                 num_segments: int = 10,
                 **kwargs):
        self.num_segments = num_segments
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    @property
    def background_label(self) -> int:
        return len(self.metainfo['classes'])

    def parse_annotations(self) -> List[dict]:
        ann_file = require_file(self.ann_file, 'AVE split file')
        rows, notes = read_ave_rows(ann_file, self.metainfo['classes'],
                                    self.num_segments)
        log_notes(notes, ann_file)
        return [self._sample(row) for row in rows]

    def _sample(self, row: AVERow) -> dict:
        label = self.metainfo['classes'].index(row.category)
        gt_label = np.full(self.num_segments, self.background_label,
                           dtype=np.int64)
        gt_label[row.start:row.end] = label
        return dict(
            video_id=row.video_id,
            category=row.category,
            event_label=label,
            start=row.start,
            end=row.end,
            gt_label=gt_label,
            segment_seconds=list(range(self.num_segments)),
            **self.media_paths(row.video_id))

    def get_cat_ids(self, idx: int) -> List[int]:
        return [int(self.get_data_info(idx)['event_label'])]


