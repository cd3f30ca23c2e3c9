"""Paper B (Frei, Vardi, Bartlett, Srebro, arXiv 2303.01456): generalization vs. robustness on clustered data.

``PAPER`` is the plug-in (:mod:`proofs.paper_b.plugin`), registered as ``b``.
"""

from proofs.paper_b.plugin import PAPER

__all__ = ["PAPER"]
