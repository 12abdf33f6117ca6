# MoLT on AVSBench S4 with one frozen Swin-V2-L reading frames and fbank
# images (1 s per frame), AVSBench decoder.
_base_ = [
    '../_base_/models/molt_swinv2-l_shared.py',
    '../_base_/models/avs_tpavi_head.py',
    '../_base_/datasets/avsbench_s4_shared.py',
    '../_base_/schedules/adamw_30e.py', '../_base_/avs_runtime.py'
]

model = dict(adapter=dict(num_latents=4), head=_base_.avs_tpavi_head)
