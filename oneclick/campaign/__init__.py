"""The measurable campaign: control-group assignment, power and minimum detectable effect,
the next period's outcomes (offers' effect, adjusted for pre-campaign covariates, by offer and
risk band; the model's realised quality), the intervention log, uplift targeting and PSI drift.
"""
