"""Domain model: dtypes, layers and scenarios. Pure NumPy, no torch, no Textual."""
