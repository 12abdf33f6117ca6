"""Side-by-side training-step measurements against the frozen floor.

Each measurement runs in a fresh child process (``spawn``), so that its
memory belongs to that configuration alone. Peak memory is counted over the
measured steps only (warm-up included, model building excluded):

* CUDA: ``torch.cuda.max_memory_allocated`` after
  ``reset_peak_memory_stats`` -- tensors only (weights, activations,
  gradients, optimiser state), not the CUDA context or libraries;
* CPU: the same quantity read from the operating system: the process's
  peak resident set over the steps (``VmHWM`` after resetting it through
  ``/proc/self/clear_refs``) minus the resident set of the bare runtime
  (Python, torch, mmengine/mmseg imported, no model built yet). Both raw
  figures are kept (``peak_rss_mb``, ``runtime_rss_mb``). Without
  ``/proc`` (not Linux) it falls back to the whole-life ``ru_maxrss`` and
  subtracts nothing.

Every child builds its inputs from the same seed, so all configurations
see the same synthetic batch.

Three kinds of measurement:

* ``'train'``: one optimisation step of the whole model (forward in
  ``mode='tensor'``, the sum of the outputs' means as the loss, backward,
  AdamW step), which exercises exactly the graph a task loss would;
* ``'cached'``: the same step fed from the frozen-feature cache (a parallel
  scheme after its first epoch with ``FeatureCacheHook``): the backbones'
  features are computed once beforehand and fed as the model's
  ``inputs['features']``, as the cache feeds them;
* ``'floor'``: the same backbones, full depth, forward only under
  ``torch.no_grad()``: frozen inference, the least any scheme can use.
"""
import multiprocessing
import platform
import queue as queue_module
import resource
import signal
import statistics
import time
from typing import Any, Callable, Dict, List, Optional

import torch
from mmengine.config import Config
from torch import Tensor, nn

__all__ = [
    'input_spec', 'measure', 'measure_in_child', 'run_in_child',
    'BenchmarkError',
    'device_name',
    'reset_peak_rss', 'peak_rss_mb'
]


def _proc_status_mb(field: str) -> Optional[float]:
    """``VmRSS``/``VmHWM`` of this process in MB, None without ``/proc``."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Sets this process's peak resident set (``VmHWM``) to its current
    one, so later reads cover only what follows. False if unsupported."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """Peak resident set in MB: since :func:`reset_peak_rss` where
    supported, else over the whole life of the process."""
    peak = _proc_status_mb('VmHWM')
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return peak


def _find_transform(pipeline: List[dict], name: str) -> Optional[dict]:
    return next((t for t in pipeline if t.get('type') == name), None)


def input_spec(cfg: Config, segments: int) -> Dict[str, int]:
    """Input sizes implied by a config's training pipeline.

    Returns:
        ``segments``, ``img_size`` (frame side after ``ResizeFrames``) and
        ``audio_samples`` (clip length after ``SliceAudioSegments`` at
        ``LoadAudio``'s rate).
    """
    pipeline = cfg.train_dataloader.dataset.pipeline
    resize = _find_transform(pipeline, 'ResizeFrames')
    load_audio = _find_transform(pipeline, 'LoadAudio')
    slice_audio = _find_transform(pipeline, 'SliceAudioSegments')
    if resize is None or load_audio is None or slice_audio is None:
        raise ValueError('The training pipeline needs ResizeFrames, '
                         'LoadAudio and SliceAudioSegments to tell the '
                         'input sizes.')
    size = resize['size']
    return dict(
        segments=segments,
        img_size=size if isinstance(size, int) else size[0],
        audio_samples=int(
            round(slice_audio.get('clip_seconds', 10.0) *
                  load_audio.get('sample_rate', 32000))))


def _inputs(model: nn.Module, spec: Dict[str, int], batch_size: int,
            device: str) -> Dict[str, Tensor]:
    generator = torch.Generator().manual_seed(0)
    steps, size = spec['segments'], spec['img_size']
    inputs = dict(
        frames=torch.randn(
            batch_size, steps, 3, size, size, generator=generator),
        audio=0.1 * torch.randn(
            batch_size, steps, spec['audio_samples'], generator=generator))
    torch.manual_seed(0)
    inputs.update(model.head.example_inputs(batch_size))
    return {k: v.to(device) for k, v in inputs.items()}


def _cached_inputs(model: nn.Module,
                   inputs: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """Computes the frozen features once and returns the inputs a cached
    step gets from the feature cache: the features (float32, like the
    cache's rows after reading) in place of frames and audio."""
    from molt.engine.feature_cache import batch_features
    if not model.adapter.is_parallel:
        raise ValueError(f'{type(model.adapter).__name__} reads no frozen '
                         'features; only parallel schemes can be cached.')
    frames, audio = inputs.pop('frames'), inputs.pop('audio')
    frozen = model.backbone_features(frames.flatten(0, 1),
                                     audio.flatten(0, 1),
                                     model.head.needs_stage_maps)
    inputs['features'] = batch_features(frozen, frames.shape[1])
    return inputs


def _loss(outputs) -> Tensor:
    if isinstance(outputs, Tensor):
        return outputs.float().mean()
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    return sum(_loss(o) for o in outputs)


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def measure(config: str, kind: str, batch_size: int, segments: int,
            device: str, amp: bool, iters: int, warmup: int) -> dict:
    """Builds a config's model (random weights) and times one kind of step.

    Args:
        config: Config file.
        kind: ``'train'``, ``'cached'`` or ``'floor'``.
        batch_size: Videos per step.
        segments: Frames (and audio clips) per video.
        device: ``'cpu'`` or ``'cuda'``.
        amp: bf16 autocast.
        iters: Timed steps (the median is reported).
        warmup: Untimed steps first.

    Returns:
        Parameters, peak memory (MB; see the module docstring), median step
        time (ms), samples/s; on CPU also ``peak_rss_mb`` and
        ``runtime_rss_mb``.
    """
    from molt.engine.feature_cache import amp_autocast, autocast_context
    from molt.registry import MODELS
    from molt.utils.params import strip_pretrained
    from molt.utils.setup_env import register_all_modules
    register_all_modules()  # imports molt, mmseg and mmcv: the runtime
    runtime_mb = _proc_status_mb('VmRSS') or 0.0
    torch.manual_seed(0)
    cfg = Config.fromfile(config)
    model = MODELS.build(strip_pretrained(cfg.model.to_dict())).to(device)
    inputs = _inputs(model, input_spec(cfg, segments), batch_size, device)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    if kind == 'floor':

        def step():
            with torch.no_grad():
                frames = inputs['frames'].flatten(0, 1)
                audio = model.prepare_audio(inputs['audio'].flatten(0, 1))
                model.visual_backbone(frames, [-1])
                model.audio_encoder(audio, [-1])
    else:
        optimizer = torch.optim.AdamW(trainable, lr=1e-4, fused=True)
        if kind == 'cached':
            inputs = _cached_inputs(model, inputs)

        def step():
            loss = _loss(model(inputs, mode='tensor'))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    elif not reset_peak_rss():
        runtime_mb = 0.0  # whole-life peak: nothing to subtract it from
    times = []
    for index in range(warmup + iters):
        _sync(device)
        start = time.perf_counter()
        with autocast_context(torch.device(device), amp_autocast(amp)):
            step()
        _sync(device)
        if index >= warmup:
            times.append(time.perf_counter() - start)
    memory = {}
    if device.startswith('cuda'):
        memory['peak_mem_mb'] = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = peak_rss_mb()
        memory.update(peak_mem_mb=peak - runtime_mb, peak_rss_mb=peak,
                      runtime_rss_mb=runtime_mb)
    median = statistics.median(times)
    counted = model if kind != 'floor' else nn.ModuleList(
        [model.visual_backbone, model.audio_encoder])
    return dict(
        trainable_params=sum(p.numel() for p in counted.parameters()
                             if p.requires_grad),
        total_params=sum(p.numel() for p in counted.parameters()),
        **memory,
        median_step_ms=1000 * median,
        samples_per_s=batch_size / median)


def _child(queue, fn, args) -> None:
    try:
        queue.put(('ok', fn(*args)))
    except BaseException as error:  # report any failure to the parent
        queue.put(('error', f'{type(error).__name__}: {error}'))


class BenchmarkError(RuntimeError):
    """A measurement failed or its process died (e.g. out of memory)."""


def run_in_child(fn: Callable, *args) -> Any:
    """Runs ``fn(*args)`` in a fresh ``spawn`` process; returns its result.

    Raises:
        BenchmarkError: ``fn`` raised, or the process died without a
            result (a process killed for lack of memory ends with signal
            9).
    """
    context = multiprocessing.get_context('spawn')
    queue = context.Queue()
    process = context.Process(target=_child, args=(queue, fn, args))
    process.start()
    while True:
        try:
            status, result = queue.get(timeout=1)
            break
        except queue_module.Empty:
            if not process.is_alive():
                code = process.exitcode
                hint = (' (killed: probably out of memory)'
                        if code == -signal.SIGKILL else '')
                raise BenchmarkError(
                    f'the process ended with code {code}{hint}.') from None
    process.join()
    if status != 'ok':
        raise BenchmarkError(result)
    return result


def measure_in_child(*args) -> dict:
    """Runs :func:`measure` in a fresh process (see :func:`run_in_child`)."""
    try:
        return run_in_child(measure, *args)
    except BenchmarkError as error:
        raise BenchmarkError(
            f'benchmark of {args[0]} ({args[1]}) failed: {error}') from None


def device_name(device: str) -> str:
    """A human-readable name of the machine part doing the work."""
    if device.startswith('cuda'):
        return torch.cuda.get_device_name(device)
    model = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    threads = torch.get_num_threads()
    return f'{model} ({threads} threads)'
