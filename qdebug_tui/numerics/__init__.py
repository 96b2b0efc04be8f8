"""Numerics: rounding rules, the float path, the exact integer reference, comparison."""
