"""Evaluation: generated sets, real-data checks and their plots.

Every restoration figure is measured beside Richardson-Lucy's on the
same spectra.

Modules
-------
generated
    The seeded generated evaluation sets and :func:`evaluate`.
real_data
    Checks on measured spectra without ground truth.
responses
    Spectra measured through real vacuum ZLP shapes, for the next three.
near_zlp
    Phonons, coupled states and doublets beside the ZLP, in 7 x 7 boxes.
cropped
    Short windows that start just before the ZLP.
gain_side
    The specimen's temperature from vibrational gain and loss peaks.
comparison
    Every method on the same measured spectra, and their tables.
plots
    The figures of an evaluation.
report
    The tables, figures and card updates of ``eelspecnet evaluate``.
"""

from hyperspy_eelspecnet.evaluation.cropped import evaluate_cropped
from hyperspy_eelspecnet.evaluation.gain_side import evaluate_gain_side
from hyperspy_eelspecnet.evaluation.generated import evaluate
from hyperspy_eelspecnet.evaluation.near_zlp import evaluate_near_zlp
from hyperspy_eelspecnet.evaluation.real_data import evaluate_real, load_real_set

__all__ = ["evaluate", "evaluate_cropped", "evaluate_gain_side", "evaluate_near_zlp",
           "evaluate_real", "load_real_set"]
