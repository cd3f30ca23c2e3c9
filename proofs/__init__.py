"""The papers verified with ``verify``, one plug-in package each (see :mod:`verify.papers`).

Each package exposes ``PAPER``, registered through the ``verify.papers`` entry points in
``pyproject.toml``; ``verify`` itself never imports this package.
"""
