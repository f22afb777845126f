"""A deepmad-pyomo instance as a Pyomo model: the natural formulation of k1dwsek1-1g-224.tinynas.yaml."""
from pathlib import Path

from deepmad_pyomo import load_problem
from deepmad_pyomo.mp.formulation import FormulationOptions, build_pyomo_model

model = build_pyomo_model(load_problem(Path(__file__).with_name("k1dwsek1-1g-224.tinynas.yaml")),
                          FormulationOptions(formulation="natural"))
