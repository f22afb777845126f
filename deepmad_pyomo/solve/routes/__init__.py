"""The solver routes. Importing this package registers every route (see :func:`..route.register`), in
the order ``deepmad solvers`` lists them."""
from . import auto, bonmin, evolution, mindtpy, monolithic, nl  # noqa: F401 - imported to register their routes

__all__ = ["auto", "bonmin", "evolution", "mindtpy", "monolithic", "nl"]
