"""What the frozen backbones hold and what a run learned, as numbers.

One job per module; the command-line tools in ``tools/analysis_tools/``
put them together and draw with :mod:`molt.visualization.plots`:

* :mod:`.similarity`: linear CKA, debiased CKA and cosine between layers,
  streamed over examples;
* :mod:`.layer_suggestion`: the ``--suggest`` heuristic;
* :mod:`.token_statistics`: router weights, fusion weights and the
  similarity of the layer-wise tokens of a MoLT model, over a split;
* :mod:`.layer_features`: token-averaged block outputs, from the backbones
  or a feature cache;
* :mod:`.probes`: linear probes of block features (ridge regression, mAP);
* :mod:`.builders`: the model and split data, built as in training;
* :mod:`.training_logs`: mmengine's JSON logs as series;
* :mod:`.results`: per-class/type/video breakdowns of test predictions;
* :mod:`.export`: JSON and CSV beside every plot.

Submodules are imported explicitly (``from molt.analysis.similarity import
linear_cka``), so importing one does not pull in the others' dependencies.
"""
