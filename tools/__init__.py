"""Reviewer tooling: offline plots and the pull-request report (not pipeline stages)."""
