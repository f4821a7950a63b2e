"""Offside's algorithm: frame sampling, per-category VAEs, calibration, scoring and segments.

Importing the package does no work; import the submodules you need (``scoring.pipeline`` for the high-level
API used by the workers and the command line).
"""
