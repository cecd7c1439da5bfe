"""The model: the training procedure (a fixed stack of scikit-learn pipelines) the train stage
fits, the protocol that judges it, the evaluate stage's metrics, plot data and out-of-fold
probabilities, and the model files.
"""
