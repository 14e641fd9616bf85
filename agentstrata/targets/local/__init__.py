"""The local target: every agent of a stack as a local process, owned by a background supervisor.

State lives under ``<project root>/.strata/local/<stack>/`` so ``down``, ``status`` and ``logs``
work from any shell.
"""
