"""Former home of what every route takes and gives back; kept so that older imports still work.
:class:`SolveOptions` is in :mod:`.options`, :class:`Outcome` and :class:`Reporter` in :mod:`.route`."""
from .options import SolveOptions
from .route import Outcome, Reporter

__all__ = ["Outcome", "Reporter", "SolveOptions"]
