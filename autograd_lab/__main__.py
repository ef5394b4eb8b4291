"""`python -m autograd_lab`: the `autograd-lab` command, for an environment whose scripts
folder is not on PATH."""
from .cli import main

main(prog_name="autograd-lab")
