"""The "adding an adapter scheme" guide runs as written."""
import re

from molt_testing import REPO

GUIDE = REPO / 'docs' / 'en' / 'adding_a_scheme.md'


def python_blocks(text: str):
    return re.findall(r'```python\n(.*?)```', text, flags=re.S)


def test_the_guide_builds_and_trains_its_scheme(monkeypatch):
    blocks = python_blocks(GUIDE.read_text())
    assert len(blocks) == 3
    monkeypatch.chdir(REPO)  # the guide runs from the repository root
    namespace = {}
    for block in blocks:
        exec(compile(block, str(GUIDE), 'exec'), namespace)
    model = namespace['model']
    assert type(model.adapter).__name__ == 'LinearReadout'
    # The last two blocks of each tiny backbone, projected to 32 channels.
    num_layers = model.adapter.layouts['visual'].num_layers
    assert model.adapter.layers('visual') == [num_layers - 2,
                                              num_layers - 1]
    # One projection per block read, to the configured width.
    assert [p.out_features for p in model.adapter.projections['visual']
            ] == [32, 32]
    assert namespace['total'].requires_grad
