"""Container health check of a Kestrel service: exit 0 when its /health answers 200, 1 otherwise.

Used by the image's HEALTHCHECK and by docker-compose. The port is the service's own
KESTREL_HTTP_PORT (the image sets it from the HTTP_PORT build argument), so a compose file or a
`docker run -e` that moves the port moves the check with it. Standard library only: the image has
no curl or wget.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    port = os.environ.get("KESTREL_HTTP_PORT", "")
    if not port.isdigit():
        print(f"healthcheck: KESTREL_HTTP_PORT is not a port: {port!r}", file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
