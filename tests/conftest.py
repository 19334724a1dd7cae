from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# fuzz/ (the coverage-guided harnesses) is imported by tests/test_fuzz_harnesses.py as the package ``fuzz``
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.append(_ROOT)
