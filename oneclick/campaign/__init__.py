"""The measurable campaign: control-group assignment, power and minimum detectable effect,
the next period's outcomes (offers' effect, the model's realised quality) and PSI drift.
"""
