"""Paper A (Smorodinsky, Gimpleson, Safran, arXiv 2603.02095) as a plug-in: ``PAPER``."""

from proofs.paper_a.plugin import PAPER

__all__ = ["PAPER"]
