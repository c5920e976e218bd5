"""Evaluation: generated sets, real-data checks and their plots.

Every restoration figure is measured beside Richardson-Lucy's on the
same spectra.

Modules
-------
generated
    The seeded generated evaluation sets and :func:`evaluate`.
real_data
    Checks on measured spectra without ground truth.
plots
    The figures of an evaluation.
report
    The tables, figures and card updates of ``eelspecnet evaluate``.
"""

from hyperspy_eelspecnet.evaluation.generated import evaluate
from hyperspy_eelspecnet.evaluation.real_data import evaluate_real, load_real_set

__all__ = ["evaluate", "evaluate_real", "load_real_set"]
