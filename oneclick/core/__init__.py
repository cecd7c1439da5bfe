"""Shared plumbing: project paths, params.yaml, errors, deterministic writers, entry points.
Every other subpackage may import it; it imports none of them.
"""
