"""One inferencer for AVE, AVS and AVQA: a config, a checkpoint, videos."""
import os
import os.path as osp
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from typing import (Callable, Deque, Dict, Iterator, List, Optional, Sequence,
                    Tuple, Union)

import torch
from mmengine.config import Config
from mmengine.infer import BaseInferencer
from mmengine.registry import FUNCTIONS
from torch import Tensor
from tqdm import tqdm

from molt.datasets.media import MediaDecodeError
from molt.registry import DATASETS
from molt.utils import register_all_modules
from .errors import VideoInputError
from .inference import default_device, init_model, read_config
from .outputs import folder_names, write_outputs
from .pipeline import InferencePipeline
from .tasks import (InferenceTask, Prediction, SampleSpec, VideoPlan,
                    task_class)
from .tasks.base import Pictures
from .video_input import SHORT_SIDE, VideoMedia, list_videos, read_video

__all__ = ['AVInferencer', 'VideoOutcome']

InputsType = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]


@dataclass
class VideoOutcome:
    """What the inferencer made of one video.

    Attributes:
        result: The result (see the tasks); a failed video has
            ``status='failed'`` and the ``error``.
        video: The decoded video (None when it failed).
        pictures: The drawn pictures (empty unless asked for).
        files: ``{name: path}`` of the files written (with ``out_dir``).
    """
    result: dict
    video: Optional[VideoMedia] = None
    pictures: Pictures = field(default_factory=dict)
    files: Dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.result['status'] == 'failed'


@dataclass
class _Job:
    """A video between decoding and its result."""
    path: str
    video: Optional[VideoMedia] = None
    plan: Optional[VideoPlan] = None
    error: Optional[str] = None
    predictions: List[Optional[Prediction]] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.error is not None or all(
            p is not None for p in self.predictions)


class AVInferencer(BaseInferencer):
    """Runs a trained molt model on videos (mmseg's ``MMSegInferencer``,
    mmpretrain's ``ImageClassificationInferencer``).

    The task follows the config's test dataset: AVE (per-second events),
    AVSBench S4/MS3 (per-frame masks) or MUSIC-AVQA (answers to a
    question); see :mod:`molt.apis.tasks`. Each video is decoded like the
    dataset converters decode theirs (:mod:`molt.apis.video_input`), cut
    into the samples the dataset would make of it (:mod:`molt.apis.windows`
    for long and short videos) and packed by the config's own test
    pipeline (:mod:`molt.apis.pipeline`); the model predicts with
    ``test_step``, as in ``tools/test.py``.

    A video that cannot be used (no file, empty, truncated beyond
    decoding, not a video, no audio stream, a question with no known word)
    becomes a failed result naming the reason; the other videos go on. A
    checkpoint that does not fit the config fails at once, when the
    inferencer is built.

    The steps are mmengine's (``preprocess``, ``forward``, ``visualize``,
    ``postprocess``), but ``__call__`` is molt's: a video may give several
    samples (windows), a batch may mix samples of several videos, and a
    video fails on its own, so videos are driven one by one
    (:meth:`stream`) rather than as one list of inputs.

    Example::

        >>> inferencer = AVInferencer('configs/demo/ave_synthetic.py',
        ...                           'work_dirs/ave_synthetic/best.pth')
        >>> out = inferencer(['a.mp4', 'clips/'], out_dir='outputs')
        >>> out['predictions'][0]['event']['name']

    Args:
        model: Config path or object (the one the checkpoint was trained
            with).
        weights: The checkpoint (full or adapter-only).
        device: ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ...; None picks a GPU
            when there is one.
        topk: Entries in each top-k list.
        window_overlap: Seconds shared by consecutive windows of a long
            AVE/AVS video (see :mod:`molt.apis.windows`).
        missing_audio: ``'error'`` (a video without an audio stream fails)
            or ``'silence'`` (the model hears silence; the result says so).
        max_seconds: Read at most this many seconds of each video.
        short_side: Frame short side when decoding; the converters' 256
            unless the training data was converted with another
            ``--short-side``.
        cfg_options: Config entries to override.
        show_progress: Show a progress bar over the videos.
    """

    def __init__(self,
                 model: Union[str, Config],
                 weights: str,
                 device: Optional[str] = None,
                 topk: int = 5,
                 window_overlap: int = 0,
                 missing_audio: str = 'error',
                 max_seconds: Optional[int] = None,
                 short_side: int = SHORT_SIDE,
                 cfg_options: Optional[dict] = None,
                 show_progress: bool = True):
        if not weights:
            raise ValueError('AVInferencer needs a trained checkpoint '
                             '(weights=PATH).')
        if topk < 1:
            raise ValueError(f'topk must be at least 1, got {topk}.')
        register_all_modules()
        self.topk = topk
        self.window_overlap = window_overlap
        self.missing_audio = missing_audio
        self.max_seconds = max_seconds
        self.short_side = short_side
        super().__init__(
            read_config(model, cfg_options),
            weights,
            device or default_device(),
            scope='molt',
            show_progress=show_progress)

    # -- set-up (called by BaseInferencer.__init__, in this order) ---------
    def _init_model(self, cfg: Config, weights: str,
                    device: str = 'cpu') -> torch.nn.Module:
        return init_model(cfg, weights, device)

    def _init_pipeline(self, cfg: Config) -> InferencePipeline:
        """The test pipeline without loaders, and the task (``self.task``)
        of the config's test dataset.

        The dataset comes from the model's config, which holds what the
        checkpoint learned from its training split (AVQA's vocabulary), as
        in ``tools/test.py`` (see :func:`~molt.apis.inference.init_model`).
        """
        dataset = DATASETS.build(
            dict(self.model.cfg.test_dataloader.dataset, lazy_init=True))
        pipeline = InferencePipeline(dataset)
        self.task: InferenceTask = task_class(dataset)(
            dataset, self.model, pipeline, self.topk, self.window_overlap)
        return pipeline

    def _init_collate(self, cfg: Config) -> Callable:
        """The test dataloader's ``collate_fn``, built as the runner does."""
        collate_cfg = dict(
            cfg.test_dataloader.get('collate_fn',
                                    dict(type='pseudo_collate')))
        collate_fn = FUNCTIONS.get(collate_cfg.pop('type'))
        return partial(collate_fn, **collate_cfg)

    def _init_visualizer(self, cfg: Config) -> None:
        """None: the tasks draw their pictures with
        :mod:`molt.visualization`."""
        return None

    def _inputs_to_list(self, inputs: InputsType) -> List[str]:
        """A path or a list of paths, as a list (folders are expanded by
        :func:`~molt.apis.video_input.list_videos`)."""
        if isinstance(inputs, (str, os.PathLike)):
            inputs = [inputs]
        return [os.fspath(path) for path in inputs]

    # -- the steps ------------------------------------------------------------
    def preprocess(self, inputs: List[Tuple[VideoMedia, SampleSpec]],
                   batch_size: int = 1, **kwargs) -> Iterator:
        """Packs ``(video, sample spec)`` pairs with the pipeline and
        collates them ``batch_size`` at a time."""
        chunks = self._get_chunk_data(
            (self.pipeline(video, spec.seconds, **spec.inputs)
             for video, spec in inputs), batch_size)
        yield from map(self.collate_fn, chunks)

    @torch.no_grad()
    def forward(self, inputs: dict, **kwargs) -> List[Prediction]:
        """``model.test_step`` on a collated batch, keeping the head's raw
        outputs (e.g. AVE's class logits) beside its predictions."""
        captured: Dict[str, Tensor] = {}

        def keep(module, args, output) -> None:
            captured.clear()
            captured.update(output if isinstance(output, dict) else
                            dict(output=output))

        handle = self.model.head.register_forward_hook(keep)
        try:
            samples = self.model.test_step(inputs)
        finally:
            handle.remove()
        return [
            Prediction(
                sample.cpu(), {
                    key: value[index].detach().cpu()
                    for key, value in captured.items()
                    if isinstance(value, Tensor) and len(value) == len(samples)
                }) for index, sample in enumerate(samples)
        ]

    def visualize(self, inputs: List[VideoOutcome], preds=None,
                  **kwargs) -> List[Pictures]:
        """The pictures of each finished video (none for failed ones)."""
        return [{} if o.failed else self.task.draw(o.result, o.video)
                for o in inputs]

    def postprocess(self, preds: List[dict], visualization: List[Pictures],
                    return_datasample: bool = False, **kwargs) -> dict:
        """``dict(predictions=[result per video], visualization=[...])``."""
        return dict(predictions=preds, visualization=visualization)

    # -- driving ------------------------------------------------------------
    def __call__(self,
                 inputs: InputsType,
                 question: Optional[str] = None,
                 batch_size: int = 1,
                 out_dir: Optional[str] = None,
                 return_vis: bool = False) -> dict:
        """Infers every video of ``inputs``.

        Args:
            inputs: A video path, a folder (its video files) or a list of
                them.
            question: The question (AVQA configs), the same for every video.
            batch_size: Samples (windows, questions) per forward pass; one
                batch may hold samples of several videos.
            out_dir: Write each video's ``result.json`` and pictures to
                ``out_dir/<video name>/`` (see :mod:`molt.apis.outputs`).
            return_vis: Also return the pictures as arrays.

        Returns:
            ``predictions``: one result per video, in input order (failed
            ones too); ``visualization``: the pictures per video (when
            ``return_vis``); ``ignored``: files of input folders that are
            not videos by their ending.
        """
        videos, ignored = list_videos(self._inputs_to_list(inputs))
        predictions, visualization = [], []
        # Only results and pictures are kept, not the decoded videos.
        for outcome in self.stream(videos, question, batch_size, out_dir,
                                   return_vis):
            predictions.append(outcome.result)
            if return_vis:
                visualization.append(outcome.pictures)
        results = self.postprocess(predictions, visualization)
        results['ignored'] = ignored
        return results

    def stream(self,
               videos: Sequence[str],
               question: Optional[str] = None,
               batch_size: int = 1,
               out_dir: Optional[str] = None,
               draw: bool = False) -> Iterator[VideoOutcome]:
        """Yields each video's outcome as soon as it is known, in order,
        with a progress bar over the videos (``show_progress``); pictures
        are drawn when ``draw`` or ``out_dir`` asks for them."""
        if batch_size < 1:
            raise ValueError(f'batch_size must be at least 1, got '
                             f'{batch_size}.')
        if question is not None and not self.task.needs_question:
            raise ValueError(f'A question was given, but the config is an '
                             f'{self.task.name.upper()} model, which reads '
                             'none.')
        names = iter(folder_names(videos))
        progress = tqdm(total=len(videos), unit='video', desc='Inference',
                        disable=not self.show_progress)
        with progress:
            for outcome in self._outcomes(videos, question, batch_size):
                if (draw or out_dir) and not outcome.failed:
                    outcome.pictures = self.visualize([outcome])[0]
                name = next(names)
                if out_dir:
                    outcome.files = write_outputs(outcome.result,
                                                  outcome.pictures,
                                                  osp.join(out_dir, name))
                progress.update()
                yield outcome

    def _outcomes(self, videos: Sequence[str], question: Optional[str],
                  batch_size: int) -> Iterator[VideoOutcome]:
        """Decodes videos one by one and predicts their samples in batches
        that may span videos; yields outcomes in input order."""
        jobs: Deque[_Job] = deque()
        queue: List[Tuple[_Job, int]] = []
        for path in videos:
            job = self._start(path, question)
            jobs.append(job)
            queue += [(job, i) for i in range(len(job.predictions))]
            while len(queue) >= batch_size:
                self._predict(queue[:batch_size])
                del queue[:batch_size]
            yield from self._finished(jobs)
        if queue:
            self._predict(queue)
        yield from self._finished(jobs)

    def _start(self, path: str, question: Optional[str]) -> _Job:
        """Reads and plans one video; a bad one becomes a failed job."""
        limits = [s for s in (self.max_seconds, self.task.max_seconds) if s]
        try:
            video = read_video(path, self.missing_audio,
                               min(limits) if limits else None,
                               self.short_side)
            plan = self.task.plan(video, question)
        except (VideoInputError, MediaDecodeError) as error:
            return _Job(path, error=str(error))
        return _Job(path, video, plan, predictions=[None] * len(plan.samples))

    def _predict(self, items: List[Tuple[_Job, int]]) -> None:
        """Predicts the listed samples as one batch."""
        pairs = [(job.video, job.plan.samples[i]) for job, i in items]
        for batch in self.preprocess(pairs, batch_size=len(pairs)):
            for (job, index), prediction in zip(items, self.forward(batch)):
                job.predictions[index] = prediction

    def _finished(self, jobs: Deque[_Job]) -> Iterator[VideoOutcome]:
        while jobs and jobs[0].ready:
            job = jobs.popleft()
            if job.error is not None:
                yield VideoOutcome(
                    dict(video=job.path, task=self.task.name, status='failed',
                         error=job.error))
            else:
                yield VideoOutcome(
                    self.task.build_result(job.video, job.plan,
                                           job.predictions), job.video)
