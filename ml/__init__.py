"""The classifier and its lifecycle: data, preprocessing, training, registry, fast scoring.

Import from the modules (`ml.registry`, `ml.serving`, ...). This file imports nothing on
purpose: the API imports `ml.features` and `ml.serving` and must not pay for scikit-learn
or MLflow, which training and the registry need.
"""
