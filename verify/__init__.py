"""verify: certified gradient descent and claim checking for ML theory.

The public surface is small; everything else lives in the subpackages:

>>> from verify import Dataset, Network, Problem, run_gd
>>> problem = Problem(Network(width=2, dim=1, output_weights=(1, -1)), Dataset.of([[1], [-1]], [1, -1]), "0.1")
>>> run = run_gd(problem, ["1/2", "0", "-1/2", "0"], 100)
>>> run.status, run.phases
('complete', [(0, '1001')])

Papers are plug-ins (:mod:`verify.papers`); ``verify papers`` lists the installed ones.
"""

from verify.arith import Enclosure, Tri, get_backend
from verify.dynamics.gd import run_gd
from verify.dynamics.schedule import RecordSchedule
from verify.dynamics.trajectory import Trajectory
from verify.errors import InvalidArgument, UndecidableError, VerifyError
from verify.exact import to_exact
from verify.init.schemes import SCHEMES, sample_init, sample_inits
from verify.model.network import Dataset, Network, Problem
from verify.papers import Paper, get_paper, registry

__all__ = [
    "SCHEMES",
    "Dataset",
    "Enclosure",
    "InvalidArgument",
    "Network",
    "Problem",
    "RecordSchedule",
    "Trajectory",
    "Tri",
    "UndecidableError",
    "VerifyError",
    "get_backend",
    "Paper",
    "get_paper",
    "registry",
    "run_gd",
    "sample_init",
    "sample_inits",
    "to_exact",
]
