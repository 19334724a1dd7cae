"""Coverage-guided fuzz harnesses for soinspect's readers (atheris), and their differential oracles.

Run one harness: ``python -m fuzz.run NAME`` (see :mod:`fuzz.run` and ``docs/security.md``).
"""
