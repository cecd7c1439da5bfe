"""SHAP explanations: explainer choice per model, the sampled path explainer and the model
decomposition it needs, and the shap stage's tables (their plots: oneclick/segment/shap_plots.py).
"""
