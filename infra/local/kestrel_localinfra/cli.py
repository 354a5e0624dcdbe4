"""Command line: up, down, status, env."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import orchestrator
from .settings import InfraConfig, InfraError, client_env


def _only(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kestrel_infra.py",
        description="Kestrel's local infrastructure (Kafka, PostgreSQL, Redis, MLflow, Prometheus) "
        "as plain processes on 127.0.0.1; data, logs and pids under KESTREL_RUN_DIR (default <repo>/.run).",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    helps = {
        "up": "start what is not running and wait until every server answers a real client call",
        "down": "stop the servers this tool started, by the pids in its pid files",
        "status": "one line per server: pid, ports, state (exit 1 unless all are ready)",
        "env": 'print the KESTREL_* exports: eval "$(... env)"',
    }
    for action, text in helps.items():
        cmd = sub.add_parser(action, help=text, description=text)
        if action == "up":
            cmd.add_argument(
                "--record-started",
                metavar="FILE",
                default=None,
                help="write the comma-separated names this call started (maybe none) to FILE, "
                'so that a later `down --only "$(cat FILE)"` stops exactly those',
            )
        if action != "env":
            cmd.add_argument(
                "--only",
                type=_only,
                default=None,
                metavar="NAMES",
                help=f"comma-separated subset of {','.join(orchestrator.SERVER_NAMES)}"
                + (" (requirements are added: mlflow needs postgres)" if action == "up" else ""),
            )
    return parser


def _recorder(path: str | None) -> Callable[[str], None] | None:
    """Keeps FILE listing what this `up` has started so far, also when it fails half-way."""
    if path is None:
        return None
    started: list[str] = []
    Path(path).write_text("\n")

    def record(name: str) -> None:
        started.append(name)
        Path(path).write_text(",".join(started) + "\n")

    return record


def print_status(rows: Sequence[orchestrator.ServerStatus]) -> None:
    print(f"{'server':<11} {'pid':>8}  {'port':<12} state")
    for row in rows:
        pid = str(row.pid) if row.pid is not None else "-"
        print(f"{row.name:<11} {pid:>8}  {row.ports:<12} {row.state}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        cfg = InfraConfig.from_env()
        if args.action == "up":
            orchestrator.up(cfg, args.only, on_start=_recorder(args.record_started))
        elif args.action == "down":
            orchestrator.down(cfg, args.only)
        elif args.action == "status":
            rows = orchestrator.status(cfg, args.only)
            print_status(rows)
            return 0 if all(row.state == "ready" for row in rows) else 1
        else:
            for name, value in client_env(cfg).items():
                print(f"export {name}={shlex.quote(value)}")
    except InfraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
