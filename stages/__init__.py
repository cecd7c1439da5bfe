"""Stages of the «В один клик» purchasing-activity pipeline (see dvc.yaml)."""
