"""The synthetic sample: a deterministic stand-in for the store's four files, in their formats,
generated from aggregate statistics only (no real rows).
"""
