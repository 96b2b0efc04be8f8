"""The one table of quantized dtype bounds used everywhere in qdebug."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class QDtype:
    """A quantized integer dtype as PyTorch names it, with its storage type and bounds."""

    name: str
    qmin: int
    qmax: int
    storage: type[np.integer]

    def contains(self, values: np.ndarray) -> np.ndarray:
        """Return a boolean mask of the values that fit in [qmin, qmax]."""
        return (values >= self.qmin) & (values <= self.qmax)


QUINT8 = QDtype("quint8", 0, 255, np.uint8)
QINT8 = QDtype("qint8", -128, 127, np.int8)
QINT32 = QDtype("qint32", -(2**31), 2**31 - 1, np.int32)

DTYPES: dict[str, QDtype] = {dtype.name: dtype for dtype in (QUINT8, QINT8, QINT32)}

INT16_MIN = -(2**15)
INT16_MAX = 2**15 - 1
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
