"""Strata: layered stacks of marimo notebooks, deployed as infrastructure."""

__version__ = "0.1.0"
