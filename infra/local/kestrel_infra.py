"""Kestrel local infrastructure without Docker.

    uv run python infra/local/kestrel_infra.py {up,down,status} [--only postgres,redis,kafka,...]
    eval "$(uv run python infra/local/kestrel_infra.py env)"

Servers: postgres, redis, kafka, prometheus, mlflow. The code is the kestrel_localinfra package
beside this file.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    # infra/ is not an installed package: put the package's directory on the path and run it.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    runpy.run_module("kestrel_localinfra", run_name="__main__", alter_sys=True)
