"""Where the spec-first contracts (``openapi/``, ``wsdl/``) are at run time.

They live at the repository's top level (the product layout). A source checkout or editable
install reads them there; a wheel installs them as data files under
``{sys.prefix}/share/pga-gateway/`` (``[tool.setuptools.data-files]`` in pyproject.toml).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

from gateway.errors import ConfigurationError

_CANDIDATES = (
    Path(__file__).resolve().parent.parent,
    Path(sys.prefix) / "share" / "pga-gateway",
)


@functools.cache
def resource_dir(name: str) -> Path:
    for base in _CANDIDATES:
        if (base / name).is_dir():
            return base / name
    searched = ", ".join(str(base / name) for base in _CANDIDATES)
    raise ConfigurationError(f"the {name}/ contracts are missing (looked in {searched})")
