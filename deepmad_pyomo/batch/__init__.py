"""Batches of design runs on Dask: suites of problems (:mod:`.suites`), the runner (:mod:`.cluster`), the
engine for planned, resumable runs (:mod:`.engine`), and its two kinds: ``deepmad compare``
(:mod:`.compare`) and ``deepmad zoo`` (:mod:`.zoo`)."""
