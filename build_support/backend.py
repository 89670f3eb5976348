"""The PEP 517 build backend: setuptools' own, loaded from ``build_support/``.

Why a wrapper: pyproject.toml names our ``build_py`` step (``wheel_model.BuildPy``), and
setuptools imports such a class from ``sys.path``. pip puts the project folder on ``sys.path``
only through ``backend-path``, and accepts ``backend-path`` only for a backend found there.
"""

from setuptools.build_meta import *  # noqa: F403
