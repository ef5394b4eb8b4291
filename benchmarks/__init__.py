"""The benchmark (bench.py) and its case generator."""
