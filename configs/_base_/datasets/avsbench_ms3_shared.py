# AVSBench MS3 for the shared-backbone setting (1 s audio clips).
_base_ = './avsbench_s4_shared.py'

data_root = 'data/avsbench/ms3'
ms3_dataset = dict(subset='ms3', data_root=data_root)
train_dataloader = dict(dataset=ms3_dataset)
val_dataloader = dict(dataset=ms3_dataset)
test_dataloader = dict(dataset=ms3_dataset)
