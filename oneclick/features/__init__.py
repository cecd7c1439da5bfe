"""Model input: engineered features, the grouped train/test split, phik and the collinearity
rule, and the feature spec every later consumer builds model input from.
"""
