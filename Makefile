# molt's two entry points for a fresh Linux machine with Python 3.11:
#   make demo   set up .venv, pretrain the tiny encoders (once), make a
#               synthetic AVE set, train, test
#   make test   set up .venv (if needed) and run the test suite
# PIP_EXTRA passes extra pip options (CI adds --find-links for a prebuilt
# mmcv wheel; without it pip compiles mmcv, about 11 minutes on 2 cores).
PYTHON ?= python3
VENV ?= .venv
PIP_EXTRA ?=
BIN := $(VENV)/bin
DEMO_WORK_DIR ?= work_dirs/ave_synthetic

.PHONY: install test demo pretrained compare-schemes

install: $(VENV)/.installed

$(VENV)/.installed: setup.py requirements.txt requirements/*.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_EXTRA) "setuptools<82" wheel
	$(BIN)/python -m pip install $(PIP_EXTRA) -r requirements/torch.txt
	$(BIN)/python -m pip install $(PIP_EXTRA) --no-build-isolation -r requirements.txt
	$(BIN)/python -m pip install --no-build-isolation --no-deps -e .
	touch $@

test: install
	$(BIN)/python -m pytest tests

# Quick start: a synthetic AVE set in the official layout, MoLT with tiny
# frozen backbones (pretrained on the synthetic world) trained on it, then
# the test split evaluated.
demo: pretrained
	$(BIN)/python tools/dataset_converters/make_synthetic.py --task ave --out data/ave_synthetic
	$(BIN)/python tools/train.py configs/demo/ave_synthetic.py --work-dir $(DEMO_WORK_DIR)
	$(BIN)/python tools/test.py configs/demo/ave_synthetic.py $$(ls -t $(DEMO_WORK_DIR)/best_*.pth | head -n 1) --work-dir $(DEMO_WORK_DIR)

# The synthetic world's pretrained tiny encoders (data/pretrained/; about
# 5 minutes on 2 cores, rebuilt only when their recipe changes).
pretrained: install
	$(BIN)/python tools/pretrain_tiny_encoders.py

# The schemes side by side on the synthetic AVE task (3 seeds, 6 epochs
# each; docs/en/analysis_tools.md#comparing-schemes).
compare-schemes: pretrained
	$(BIN)/python tools/analysis_tools/compare_schemes.py --epochs 6
