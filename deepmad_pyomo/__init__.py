"""deepmad-pyomo: DeepMAD CNN backbone design as a Pyomo MINLP, solved by real solvers."""
from .errors import DesignError, InfeasibleError
from .space.arch import Architecture, Block, load, save
from .space.metrics import Metrics, ObjectiveSettings, evaluate

__version__ = "0.1.0"
__all__ = ["Architecture", "Block", "DesignError", "InfeasibleError", "Metrics", "ObjectiveSettings",
           "evaluate", "load", "save", "__version__"]
