"""Rich renderings for the command line: report grids and summaries. No Textual."""
