"""Paper B (Frei, Vardi, Bartlett, Srebro, arXiv 2303.01456): generalization vs. robustness on clustered data."""
