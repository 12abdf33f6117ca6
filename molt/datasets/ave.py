"""AVE: audio-visual event localisation (Tian et al., 2018)."""
from typing import Dict, List

import numpy as np

from molt.registry import DATASETS
from .converted_video import ConvertedVideoDataset
from .utils import AnnotationError, require_file

__all__ = ['AVEDataset', 'AVE_CLASSES']

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
    over 29 classes.

    Videos shorter than ``num_segments`` seconds repeat their last second
    (frames and audio), applied by the loading transforms.

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
        class_to_label = {c: i for i, c in enumerate(self.metainfo['classes'])}
        data_list = []
        with open(ann_file, encoding='utf-8') as f:
            for line_no, line in enumerate(f, 1):
                line = line.strip()
                if not line or line == HEADER:
                    continue
                data_list.append(
                    self._parse_row(line, f'{ann_file}:{line_no}',
                                    class_to_label))
        return data_list

    def _parse_row(self, line: str, where: str,
                   class_to_label: Dict[str, int]) -> dict:
        fields = line.split('&')
        if len(fields) != 5:
            raise AnnotationError(
                f'{where}: expected 5 "&"-separated fields '
                f'({HEADER}), got {len(fields)}: {line!r}')
        category, video_id, _, start, end = fields
        if category not in class_to_label:
            raise AnnotationError(
                f'{where}: unknown category {category!r}: {line!r}')
        try:
            start, end = int(start), int(end)
        except ValueError:
            raise AnnotationError(
                f'{where}: StartTime/EndTime must be integers: {line!r}'
            ) from None
        if not 0 <= start < end <= self.num_segments:
            raise AnnotationError(
                f'{where}: need 0 <= StartTime < EndTime <= '
                f'{self.num_segments}, got {start}..{end}: {line!r}')
        label = class_to_label[category]
        gt_label = np.full(self.num_segments, self.background_label,
                           dtype=np.int64)
        gt_label[start:end] = label
        return dict(
            video_id=video_id,
            category=category,
            event_label=label,
            start=start,
            end=end,
            gt_label=gt_label,
            segment_seconds=list(range(self.num_segments)),
            **self.media_paths(video_id))

    def get_cat_ids(self, idx: int) -> List[int]:
        return [int(self.get_data_info(idx)['event_label'])]


