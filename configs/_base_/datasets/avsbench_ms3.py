# AVSBench MS3 (multi source, 296/64/64 videos): as S4, but every split has
# all five masks and training uses them all. For the unpacked release:
# data_root='.../Multi-sources', media='ms3_data'.
_base_ = './avsbench_s4.py'

data_root = 'data/avsbench/ms3'
ms3_dataset = dict(subset='ms3', data_root=data_root)
train_dataloader = dict(dataset=ms3_dataset)
val_dataloader = dict(dataset=ms3_dataset)
test_dataloader = dict(dataset=ms3_dataset)
