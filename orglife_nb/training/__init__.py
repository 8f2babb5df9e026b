"""Training for branch secretaries: the walkthrough of the four procedures, the deadline calculator, a scored
practice case and printable checklists. ``notebooks/training.ipynb`` only calls into here."""
from .practice import Candidate, PracticeCase, Result, make_case

__all__ = ["Candidate", "PracticeCase", "Result", "make_case"]
