"""molt's registries, scope ``molt``.

Every registry is a child of mmseg's registry of the same kind (whose parent
is in turn mmengine's). For ``MODELS`` this matters: an mmseg decode head
built from a molt-scoped config can still build its nested losses, and a
molt config can name any mmseg or mmengine part. ``locations`` lets the
runner import molt's modules lazily when a config only says
``default_scope = 'molt'``.
"""
from mmseg.registry import DATA_SAMPLERS as MMSEG_DATA_SAMPLERS
from mmseg.registry import DATASETS as MMSEG_DATASETS
from mmseg.registry import EVALUATOR as MMSEG_EVALUATOR
from mmseg.registry import HOOKS as MMSEG_HOOKS
from mmseg.registry import LOG_PROCESSORS as MMSEG_LOG_PROCESSORS
from mmseg.registry import LOOPS as MMSEG_LOOPS
from mmseg.registry import METRICS as MMSEG_METRICS
from mmseg.registry import MODEL_WRAPPERS as MMSEG_MODEL_WRAPPERS
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS as \
    MMSEG_OPTIM_WRAPPER_CONSTRUCTORS
from mmseg.registry import OPTIM_WRAPPERS as MMSEG_OPTIM_WRAPPERS
from mmseg.registry import OPTIMIZERS as MMSEG_OPTIMIZERS
from mmseg.registry import PARAM_SCHEDULERS as MMSEG_PARAM_SCHEDULERS
from mmseg.registry import RUNNER_CONSTRUCTORS as MMSEG_RUNNER_CONSTRUCTORS
from mmseg.registry import RUNNERS as MMSEG_RUNNERS
from mmseg.registry import TASK_UTILS as MMSEG_TASK_UTILS
from mmseg.registry import TRANSFORMS as MMSEG_TRANSFORMS
from mmseg.registry import VISBACKENDS as MMSEG_VISBACKENDS
from mmseg.registry import VISUALIZERS as MMSEG_VISUALIZERS
from mmseg.registry import WEIGHT_INITIALIZERS as MMSEG_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS',
    'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS', 'EVALUATOR',
    'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS'
]

SCOPE = 'molt'

# Training loop and runtime parts.
RUNNERS = Registry(
    'runner', parent=MMSEG_RUNNERS, scope=SCOPE,
    locations=['molt.engine.runner'])
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor', parent=MMSEG_RUNNER_CONSTRUCTORS, scope=SCOPE)
LOOPS = Registry(
    'loop', parent=MMSEG_LOOPS, scope=SCOPE, locations=['molt.engine.loops'])
HOOKS = Registry(
    'hook', parent=MMSEG_HOOKS, scope=SCOPE, locations=['molt.engine.hooks'])
LOG_PROCESSORS = Registry(
    'log processor', parent=MMSEG_LOG_PROCESSORS, scope=SCOPE)

# Data.
DATASETS = Registry(
    'dataset', parent=MMSEG_DATASETS, scope=SCOPE,
    locations=['molt.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMSEG_DATA_SAMPLERS, scope=SCOPE)
TRANSFORMS = Registry(
    'transform', parent=MMSEG_TRANSFORMS, scope=SCOPE,
    locations=['molt.datasets.transforms'])

# Models: mmseg's MODELS is the parent so that mmseg decode heads and their
# nested losses build inside the molt scope.
MODELS = Registry(
    'model', parent=MMSEG_MODELS, scope=SCOPE, locations=['molt.models'])
MODEL_WRAPPERS = Registry(
    'model wrapper', parent=MMSEG_MODEL_WRAPPERS, scope=SCOPE)
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMSEG_WEIGHT_INITIALIZERS, scope=SCOPE)

# Optimisation.
OPTIMIZERS = Registry('optimizer', parent=MMSEG_OPTIMIZERS, scope=SCOPE)
OPTIM_WRAPPERS = Registry(
    'optim wrapper', parent=MMSEG_OPTIM_WRAPPERS, scope=SCOPE,
    locations=['molt.engine.optim_wrappers'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMSEG_OPTIM_WRAPPER_CONSTRUCTORS, scope=SCOPE)
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMSEG_PARAM_SCHEDULERS, scope=SCOPE)

# Evaluation.
METRICS = Registry(
    'metric', parent=MMSEG_METRICS, scope=SCOPE,
    locations=['molt.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMSEG_EVALUATOR, scope=SCOPE)
TASK_UTILS = Registry('task util', parent=MMSEG_TASK_UTILS, scope=SCOPE)

# Visualisation.
VISUALIZERS = Registry(
    'visualizer', parent=MMSEG_VISUALIZERS, scope=SCOPE,
    locations=['molt.visualization'])
VISBACKENDS = Registry('vis_backend', parent=MMSEG_VISBACKENDS, scope=SCOPE)
