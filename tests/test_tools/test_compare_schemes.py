"""tools/analysis_tools/compare_schemes.py on a 1-epoch budget."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from molt.datasets.synthetic import make_ave
from molt_testing import REPO, load_script


def test_two_schemes_one_epoch_table_json_and_plot(tmp_path):
    root = str(tmp_path / 'ave')
    make_ave(root, num_videos=dict(train=8, val=4, test=4), frame_size=64)
    tool = load_script('tools/analysis_tools/compare_schemes.py')
    work_dir = tmp_path / 'compare'
    argv = ['--schemes', 'molt', 'floor', '--seeds', '0', '--epochs', '1',
            '--data-root', root, '--work-dir', str(work_dir),
            '--bench-batch-size', '1']
    rows = tool.main(argv)
    assert [row['name'] for row in rows] == ['molt', 'floor']
    for row in rows:
        (score, ) = row['scores']
        assert 0 <= score <= 100 and row['mean'] == score
        assert row['efficiency']['trainable_params'] > 0
    assert rows[0]['memory_ratio'] == 1.0 and rows[0]['time_ratio'] == 1.0
    # The floor has no adapter: fewer trainable parameters than MoLT.
    assert (rows[1]['efficiency']['trainable_params'] <
            rows[0]['efficiency']['trainable_params'])
    saved = json.loads((work_dir / 'comparison.json').read_text())
    assert [row['name'] for row in saved['rows']] == ['molt', 'floor']
    assert (work_dir / 'comparison.png').stat().st_size > 0
    table = (work_dir / 'comparison.md').read_text()
    assert '| molt |' in table and '| floor |' in table
    # Finished runs are not repeated: a second call reads result.json.
    before = (work_dir / 'molt' / 'seed0' / 'result.json').stat().st_mtime
    tool.main(argv + ['--no-efficiency'])
    assert (work_dir / 'molt' / 'seed0' /
            'result.json').stat().st_mtime == before


def test_seeds_are_summed_up_as_mean_and_sample_std():
    tool = load_script('tools/analysis_tools/compare_schemes.py')
    assert tool._mean_std([90.0, 92.0, 97.0]) == (93.0, 3.605551275463989)
    assert tool._mean_std([90.0]) == (90.0, 0.0)


def test_ablation_variants_are_molt_with_one_change():
    tool = load_script('tools/analysis_tools/compare_schemes.py')
    args = tool.parse_args(['--study', 'stage'])
    variants = tool.variants(args)
    assert len(variants) == 6
    config, options = variants['stage early+late']
    assert config.endswith('ave_synthetic.py')
    assert options == ['model.adapter.visual_layers=early+late',
                       'model.adapter.audio_layers=early+late']


@pytest.mark.parametrize('task', ['ave', 'avs', 'avqa'])
def test_every_scheme_has_a_config_per_task(task):
    """Each scheme's config is the task's MoLT demo with that scheme's
    adapter: the same head and test data, another adapter."""
    from mmengine.config import Config

    from molt.registry import MODELS
    from molt.utils import register_all_modules
    register_all_modules()
    tool = load_script('tools/analysis_tools/compare_schemes.py')
    variants = tool.variants(tool.parse_args(['--task', task]))
    molt = Config.fromfile(str(REPO / variants['molt'][0]))
    adapters = set()
    for name, (config, options) in variants.items():
        cfg = Config.fromfile(str(REPO / config))
        assert options == []
        assert cfg.model.head == molt.model.head, name
        assert cfg.test_dataloader == molt.test_dataloader, name
        adapters.add((cfg.model.adapter.type,
                      cfg.model.adapter.get('num_cda')))
        # Only a parallel scheme's frozen features can be cached.
        hooks = {hook['type'] for hook in cfg.get('custom_hooks', [])}
        if not MODELS.get(cfg.model.adapter.type).is_parallel:
            assert 'FeatureCacheHook' not in hooks, name
            # AVModel refuses a feature norm it could not apply.
            assert cfg.model.get('feature_norm') is None, name
    # MoLT, Mettle-style (MoLT's adapter without CDAs), LAVisH, DG-SCT,
    # AVMoE, the floor.
    assert len(adapters) == 6


@pytest.mark.parametrize('task', ['ave', 'avqa'])
def test_parallel_schemes_train_from_a_cache_per_variant(tmp_path, task):
    """The tool alone decides about the cache: the AVQA demo's own
    FeatureCacheHook is replaced, or dropped with ``--no-cache``."""
    from mmengine.config import Config

    from molt.utils import register_all_modules
    register_all_modules()
    tool = load_script('tools/analysis_tools/compare_schemes.py')

    def hooks(scheme, cached):
        config = (f'configs/demo/{task}_synthetic.py' if scheme == 'molt'
                  else f'configs/demo/{task}_synthetic_{scheme}.py')
        run_dir = tmp_path / scheme / ('cached' if cached else 'plain')
        path = tool.merged_config(config, [], cached, str(run_dir))
        return run_dir, [h for h in Config.fromfile(path).custom_hooks
                         if h['type'] == 'FeatureCacheHook']

    for scheme in ('molt', 'mettle', 'floor'):
        run_dir, found = hooks(scheme, True)
        # Its own stores: variants read different blocks, and a store
        # refuses features of other blocks.
        assert found == [dict(type='FeatureCacheHook',
                              cache_dir=str(run_dir / 'feature_cache'))]
        assert hooks(scheme, False)[1] == []
    # Sequential schemes run their backbones every step.
    for scheme in ('lavish', 'dgsct', 'avmoe'):
        assert hooks(scheme, True)[1] == []


def test_sigterm_stops_the_running_child_too(tmp_path):
    """Killing the comparison with SIGTERM must not leave its current
    training run behind: the signal is passed on to the child."""
    child_pid = tmp_path / 'child.pid'
    sleeper = ('import os, time; '
               f'open({str(child_pid)!r}, "w").write(str(os.getpid())); '
               'time.sleep(60)')
    parent = subprocess.Popen([
        sys.executable, '-c',
        'import sys; sys.path.insert(0, "tools/analysis_tools"); '
        'import compare_schemes; '
        f'compare_schemes._run([sys.executable, "-c", {sleeper!r}], '
        f'{str(tmp_path / "child.log")!r})'
    ], cwd=REPO, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while not child_pid.exists() or not child_pid.read_text():
        assert time.time() < deadline, 'the child never started'
        time.sleep(0.1)
    parent.send_signal(signal.SIGTERM)
    _, stderr = parent.communicate(timeout=30)
    assert parent.returncode != 0
    assert 'Stopped by SIGTERM' in stderr
    pid = int(child_pid.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_stopped_run_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    """Only a run that left ``last_checkpoint`` (a signal stopped it) is
    trained with ``--resume``; a fresh one starts from scratch."""
    tool = load_script('tools/analysis_tools/compare_schemes.py')
    commands = []

    def fake_run(command, log):
        commands.append(command)
        work_dir = command[command.index('--work-dir') + 1]
        if command[1] == 'tools/train.py':
            os.makedirs(work_dir, exist_ok=True)
            open(os.path.join(work_dir, 'best_ave_accuracy_epoch_1.pth'),
                 'w').close()
        else:
            with open(log, 'w') as f:
                f.write('Test results: ave/accuracy: 75.00\n')

    monkeypatch.setattr(tool, '_run', fake_run)
    stopped = tmp_path / 'stopped' / 'seed0'
    stopped.mkdir(parents=True)
    (stopped / 'last_checkpoint').write_text(str(stopped / 'epoch_1.pth'))
    for work_dir in (stopped, tmp_path / 'fresh' / 'seed0'):
        assert tool.train_and_test('cfg.py', 0, [], str(work_dir),
                                   'ave/accuracy') == 75.0
    trains = [c for c in commands if c[1] == 'tools/train.py']
    assert ['--resume' in c for c in trains] == [True, False]
