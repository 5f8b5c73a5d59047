"""asv benchmarks of numlstm (run ``asv`` from ``asv_bench/``).

With ``asv run --python=same`` asv installs nothing: the benchmarks then
import numlstm from this checkout (the directory above ``asv_bench/``),
installed or not, as the scripts under ``benchmarks/`` do. In the
environments asv builds itself (``asv run``, ``asv continuous``) numlstm is
the build of the commit under test and ``sys.path`` is left alone.
"""

import os
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
if os.environ.get("ASV_ENV_TYPE", "existing") == "existing" and \
        (_ROOT / "numlstm" / "__init__.py").is_file() and \
        str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))
