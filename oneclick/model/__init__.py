"""The model: scikit-learn pipelines and search spaces, the search and calibration of the train
stage, and the evaluate stage's metrics, plot data and out-of-fold probabilities.
"""
