"""The independent ways to a gradient, each a small function over the one expression tree."""
