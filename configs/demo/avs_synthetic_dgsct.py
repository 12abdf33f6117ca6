# The quick-start AVSBench S4 model with DG-SCT adapters instead of MoLT
# (configs/_base_/models/demo_schemes.py), for benchmarks and
# tools/analysis_tools/compare_schemes.py on CPU.
_base_ = ['./avs_synthetic.py', '../_base_/models/demo_schemes.py']

# DG-SCT's temporal attention runs across the 5 frames of a video, so its
# training samples keep all five (the loss still reads only the labelled
# first frame), not just the labelled one as the other demos do; the
# authors' gate scale on AVS.
train_dataloader = dict(dataset=dict(only_labelled_frames=False))
model = dict(
    _base_.dgsct_model,
    adapter=dict(
        _base_.dgsct_model.adapter,
        num_segments=5,
        temporal=dict(_base_.dgsct_model.adapter.temporal,
                      gate_scale=0.05)))
