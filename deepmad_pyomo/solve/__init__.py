"""Solving a design problem: :func:`.design.design` runs a solver route (:mod:`.routes`, looked up in
:mod:`.registry`) in a supervised child process (:mod:`.supervise`) and verifies what it returns."""
