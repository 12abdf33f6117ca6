"""Installs molt. See README.md for the supported install path."""
import os.path as osp
import re

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name: str) -> list:
    """Reads ``requirements/<name>.txt``, following ``-r`` includes."""
    requirements = []
    with open(osp.join(HERE, 'requirements', name)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            if line.startswith('-r '):
                requirements += read_requirements(line[3:].strip())
            else:
                requirements.append(line)
    return requirements


def read_version() -> str:
    with open(osp.join(HERE, 'molt', 'version.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


setup(
    name='molt',
    version=read_version(),
    description='Parameter- and memory-efficient audio-visual learning '
    '(MoLT, LAVisH, Mettle-style) in the OpenMMLab style',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=find_packages(include=['molt', 'molt.*']),
    include_package_data=True,
    install_requires=read_requirements('runtime.txt'),
    extras_require=dict(
        tests=read_requirements('tests.txt'),
        optional=read_requirements('optional.txt')),
    zip_safe=False,
)
