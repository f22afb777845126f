"""The solver routes. Importing this package registers every route (see :func:`..route.register`), in
the order of these imports, which is the order ``deepmad solvers`` lists them in."""
# isort: skip_file
from . import auto  # noqa: F401 - auto (the default) and ipopt
from . import bonmin  # noqa: F401
from . import monolithic  # noqa: F401 - scip and maingo
from . import mindtpy  # noqa: F401
from . import nl  # noqa: F401
from . import evolution  # noqa: F401

__all__ = ["auto", "bonmin", "evolution", "mindtpy", "monolithic", "nl"]
