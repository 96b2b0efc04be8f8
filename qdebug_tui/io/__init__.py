"""Scenario files and tensor files: reading, validating and writing. No torch, no Textual."""
