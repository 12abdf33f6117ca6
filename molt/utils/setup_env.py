"""Registers molt's modules and makes ``molt`` the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Imports every molt module that registers something.

    Args:
        init_default_scope: Also make ``molt`` the current default scope, as
            the configs' ``default_scope = 'molt'`` does for the runner.
    """
    import molt.datasets  # noqa: F401
    import molt.engine  # noqa: F401
    import molt.evaluation  # noqa: F401
    import molt.models  # noqa: F401
    import molt.visualization  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('molt'):
        DefaultScope.get_instance('molt', scope_name='molt')
    elif current.scope_name != 'molt':
        warnings.warn(f'The current default scope "{current.scope_name}" is '
                      'not "molt"; creating a new scope for molt.')
        new_name = f'molt-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_name, scope_name='molt')
