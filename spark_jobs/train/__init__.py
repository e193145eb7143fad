"""Risk and revenue models: features, training, evaluation, MLflow tracking (``job``)."""
