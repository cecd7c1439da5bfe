"""Scoring a new period's files with the pipeline's verified model: integrity checks, chunked
prediction, decline drivers and offers for the segment, the per-customer output table.
"""
