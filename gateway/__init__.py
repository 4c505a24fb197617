"""PGA Gateway core: intake, validation, persistence, dispatch, and the HTTP/SOAP edges."""

import warnings

# connexion 3.3 imports starlette.testclient at import time, which warns on current Starlette;
# we never use the test client, so the notice is only noise in every `serve` log.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
