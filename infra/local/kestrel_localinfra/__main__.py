"""`python -m kestrel_localinfra` (with infra/local on the path) is the same CLI as kestrel_infra.py."""

import sys

from .cli import main

sys.exit(main())
