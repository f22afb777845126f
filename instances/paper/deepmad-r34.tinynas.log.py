"""A deepmad-pyomo instance as a Pyomo model: the log formulation of deepmad-r34.tinynas.yaml."""
from pathlib import Path

from deepmad_pyomo import load_problem
from deepmad_pyomo.mp.formulation import FormulationOptions, build_pyomo_model

model = build_pyomo_model(load_problem(Path(__file__).with_name("deepmad-r34.tinynas.yaml")),
                          FormulationOptions(formulation="log"))
