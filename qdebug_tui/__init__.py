"""qdebug: a terminal debugger for quantized convolution and linear layers.

The headless core (``core``, ``io``, ``numerics``, ``backends``) never imports Textual; the
TUI (``app``, ``screens``, ``widgets``) and the command line (``cli``) both call it.
"""

__version__ = "0.1.0"
