"""verify: certified gradient descent and claim checking for ML theory.

The public surface is small; everything else lives in the subpackages:

>>> from verify import paper_a_problem, run_gd
>>> run = run_gd(paper_a_problem("0.1"), ["1/2", "0", "-1/2", "0"], 100)
>>> run.status, run.phases
('complete', [(0, '1001')])
"""

from verify.arith import Enclosure, Tri, get_backend
from verify.dynamics.gd import run_gd
from verify.dynamics.schedule import RecordSchedule
from verify.dynamics.trajectory import Trajectory
from verify.errors import InvalidArgument, UndecidableError, VerifyError
from verify.exact import to_exact
from verify.init.schemes import SCHEMES, sample_init, sample_inits
from verify.model.network import Dataset, Network, Problem, paper_a_problem

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
    "paper_a_problem",
    "run_gd",
    "sample_init",
    "sample_inits",
    "to_exact",
]
