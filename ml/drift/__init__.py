"""Drift of live traffic against the reference profile of the model version that served it.

`calibrate` fits thresholds on clean windows once per model version; `DriftDetector`
measures a `WindowSample` against them (docs/monitoring.md).
"""

from ml.drift.calibration import Calibration, calibrate, calibration_sizes
from ml.drift.detector import DriftAssessment, DriftDetector
from ml.drift.reference import DriftError, ProfileNotCalibratableError, Reference
from ml.drift.statistics import SHARES, STATISTICS, measure
from ml.drift.window import SHAPE_FIELDS, WindowSample

__all__ = [
    "SHAPE_FIELDS",
    "SHARES",
    "STATISTICS",
    "Calibration",
    "DriftAssessment",
    "DriftDetector",
    "DriftError",
    "ProfileNotCalibratableError",
    "Reference",
    "WindowSample",
    "calibrate",
    "calibration_sizes",
    "measure",
]
