"""The `train` stage's work: the training procedure (oneclick/model/procedure.py) fitted on the
training part, and the few numbers worth diffing about the fitted model.

How good the procedure is does not come from here: the evaluate stage re-runs it inside every
fold of the protocol (oneclick/model/protocol.py) and scores it there.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from oneclick.core import params_schema
from oneclick.data.contract import GROUP, LABEL
from oneclick.features.spec import feature_columns
from oneclick.model.procedure import MEMBERS, fit_procedure, meta_weights


def train_model(
    train: pd.DataFrame, spec: dict[str, Any], params: dict[str, Any]
) -> tuple[Pipeline, dict[str, Any]]:
    """(the fitted procedure, metrics/train.json) on the training part."""
    X, y, groups = train[feature_columns(spec)], train[LABEL], train[GROUP]
    params_schema.check_fit(params, y.value_counts().to_dict(), f"train.csv: column {LABEL}")
    model = fit_procedure(spec, params, X, y, groups)
    svc_selection = model["stack"].named_estimators_["svc"]["select"]
    weights = meta_weights(model)
    metrics = {  # how the fitted stack leans on its members: worth a look when it moves
        "svc_features_kept": int(svc_selection.get_support().sum()),
        "meta_weight": {name: weights[name] for name in MEMBERS},
    }
    return model, metrics
