"""The production controller's requests, the window audit, the flatten id and the board view (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from kestrel_contracts.events import is_event_id
from kestrel_contracts.v1.audit_event_pb2 import AUDIT_SEVERITY_INFO, AUDIT_SEVERITY_WARNING
from kestrel_gateway.commands import flatten_event_id, window_audit
from kestrel_gateway.models import FlattenIn, OverrideIn, ProcessControlIn, RunWindowIn
from kestrel_gateway.routes import control
from kestrel_gateway.routes.control import board_view
from kestrel_platform.control import ALL, Action, Mode, Process, RunWindow
from kestrel_platform.control_store import InMemoryControl

_MONDAY_NOON_NS = int(datetime(2024, 1, 1, 12, 0, tzinfo=UTC).timestamp()) * 1_000_000_000


def _refusal(model: type[BaseModel], body: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    error: dict[str, Any] = dict(caught.value.errors()[0])
    return error


def test_a_process_change_defaults_to_every_account_and_keeps_the_reason_trimmed() -> None:
    body = ProcessControlIn.model_validate({"action": "pause", "reason": "  venue maintenance "})
    assert (body.action, body.account, body.reason) == (Action.PAUSE, ALL, "venue maintenance")
    assert ProcessControlIn.model_validate(
        {"action": "halt", "account": "acct-1", "reason": "x"}
    ).account == ("acct-1")


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"action": "restart", "reason": "x"}, "action", "'pause'"),
        ({"action": "PAUSE", "reason": "x"}, "action", "'pause'"),
        ({"action": "pause"}, "reason", "Field required"),
        ({"action": "pause", "reason": ""}, "reason", "at least 1 character"),
        ({"action": "pause", "reason": "   "}, "reason", "must not be blank"),
        ({"action": "pause", "reason": "x" * 501}, "reason", "at most 500"),
        ({"action": "pause", "account": "", "reason": "x"}, "account", "at least 1 character"),
        ({"action": "pause", "account": "a b", "reason": "x"}, "account", "pattern"),
        ({"action": "pause", "account": "**", "reason": "x"}, "account", "pattern"),
        ({"action": "pause", "reason": "x", "automated": True}, "automated", "Extra inputs"),
    ],
)
def test_bad_process_changes_are_refused_with_a_reason(body: dict[str, Any], field: str, says: str) -> None:
    error = _refusal(ProcessControlIn, body)
    assert error["loc"][0] == field
    assert says in error["msg"]


def test_a_window_is_normalised_and_the_empty_window_means_always() -> None:
    body = RunWindowIn.model_validate({"window": "  MON-FRI   13:30-20:00 ", "reason": "US hours"})
    assert body.window == "mon-fri 13:30-20:00"
    assert RunWindow.parse(RunWindowIn.model_validate({"window": "", "reason": "24/7"}).window).always


@pytest.mark.parametrize(
    ("window", "says"),
    [
        ("weekdays 13:30-20:00", "not a day or a day range"),
        ("mon-fri 13:30", "is not like 'mon-fri 13:30-20:00'"),
        ("daily 25:00-26:00", "is not a time of day"),
        ("daily 10:00-10:00", "start and end are the same"),
        ("mon-fri 13:30-20:00;", "is not like"),
    ],
)
def test_a_bad_window_is_refused_with_the_parsers_message(window: str, says: str) -> None:
    error = _refusal(RunWindowIn, {"window": window, "reason": "x"})
    assert error["loc"] == ("window",)
    assert says in error["msg"]


def test_a_window_change_needs_a_reason() -> None:
    assert _refusal(RunWindowIn, {"window": "daily 00:00-06:00", "reason": " "})["loc"] == ("reason",)


def test_an_override_names_a_real_account_a_symbol_and_a_mode() -> None:
    body = OverrideIn.model_validate(
        {"account": "paper", "symbol": "BTC/USDT", "mode": "reduce_only", "reason": "too large"}
    )
    assert (body.account, body.symbol, body.mode) == ("paper", "BTC/USDT", Mode.REDUCE_ONLY)
    good = {"account": "paper", "symbol": "BTC/USDT", "mode": "normal", "reason": "x"}
    for field, value, says in (
        ("mode", "sell_only", "'reduce_only'"),
        ("account", ALL, "pattern"),  # an instrument's mode is per account; "*" would never be read
        ("symbol", "BTC USDT", "pattern"),
        ("reason", "", "at least 1 character"),
    ):
        error = _refusal(OverrideIn, {**good, field: value})
        assert error["loc"][0] == field and says in error["msg"]


def test_a_flatten_names_an_account_and_maybe_a_symbol() -> None:
    assert FlattenIn.model_validate({"account": "paper", "reason": "end of day"}).symbol is None
    assert _refusal(FlattenIn, {"account": "paper", "symbol": "", "reason": "x"})["loc"][0] == "symbol"
    assert _refusal(FlattenIn, {"symbol": "BTC/USDT", "reason": "x"})["loc"][0] == "account"
    assert _refusal(FlattenIn, {"account": "paper", "reason": "\t"})["loc"][0] == "reason"


def test_a_flatten_retried_with_the_same_idempotency_key_is_one_command() -> None:
    same = flatten_event_id("key1", "flat-1")
    assert same == flatten_event_id("key1", "flat-1") and is_event_id(same)
    assert same not in (flatten_event_id("key2", "flat-1"), flatten_event_id("key1", "flat-2"))
    assert flatten_event_id("key1", None) != flatten_event_id("key1", None)


def test_the_window_audit_names_the_process_the_window_and_the_reason() -> None:
    window = RunWindow.parse("mon-fri 13:30-20:00")
    audit = window_audit(Process.RISK, window, actor="k1", reason="US hours", now_ns=5)
    assert (audit.action, audit.actor, audit.subject_id, audit.severity) == (
        "control.window",
        "k1",
        "risk/*",
        AUDIT_SEVERITY_WARNING,
    )
    assert dict(audit.attributes) == {
        "process": "risk",
        "window": "mon-fri 13:30-20:00",
        "reason": "US hours",
    }
    assert "'mon-fri 13:30-20:00'" in audit.message and is_event_id(audit.event_id)
    cleared = window_audit(Process.RISK, RunWindow.parse(""), actor="k1", reason="24/7", now_ns=5)
    assert cleared.severity == AUDIT_SEVERITY_INFO and "cleared" in cleared.message
    assert cleared.event_id != audit.event_id


async def test_the_board_view_shows_records_windows_overrides_and_effective_states() -> None:
    control = InMemoryControl(clock=lambda: _MONDAY_NOON_NS)
    await control.apply(Process.EXECUTION, "acct-1", Action.PAUSE, actor="k1", reason="venue down")
    await control.set_window(Process.SIGNALS, RunWindow.parse("mon-fri 13:30-20:00"))
    await control.set_mode("acct-2", "ETH/USDT", Mode.CLOSE_ONLY, actor="k1", reason="delisting")
    view = board_view(await control.board(), _MONDAY_NOON_NS)

    processes = {p["process"]: p for p in view["processes"]}
    assert set(processes) == {p.value for p in Process}
    execution = processes["execution"]
    assert execution["records"] == {
        "acct-1": {
            "state": "paused",
            "actor": "k1",
            "reason": "venue down",
            "changed_at": "2024-01-01T12:00:00+00:00",
            "automated": False,
        }
    }
    assert set(execution["effective"]) == {ALL, "acct-1", "acct-2"}  # accounts of records and overrides
    assert execution["effective"][ALL] == {"state": "running", "reason": ""}
    assert execution["effective"]["acct-1"] == {
        "state": "paused",
        "reason": "execution for acct-1 is paused: venue down",
    }
    # risk depends on execution: paused for acct-1 with execution's reason, though it has no record
    assert processes["risk"]["records"] == {} and processes["risk"]["depends_on"] == ["execution"]
    assert processes["risk"]["effective"]["acct-1"]["reason"] == "execution for acct-1 is paused: venue down"
    # 12:00 UTC on a Monday is outside 13:30-20:00
    assert processes["signals"]["effective"][ALL]["state"] == "paused"
    assert view["windows"] == {"signals": "mon-fri 13:30-20:00"}
    assert view["overrides"] == [
        {
            "account": "acct-2",
            "symbol": "ETH/USDT",
            "mode": "close_only",
            "actor": "k1",
            "reason": "delisting",
            "changed_at": "2024-01-01T12:00:00+00:00",
        }
    ]
    assert view["at"] == "2024-01-01T12:00:00+00:00"


def test_the_openapi_document_lists_the_processes_and_the_refusals() -> None:
    app = FastAPI()
    app.include_router(control.router)
    document = app.openapi()
    paths = document["paths"]
    assert set(paths) == {
        "/api/control",
        "/api/control/history",
        "/api/control/processes/{process}",
        "/api/control/processes/{process}/window",
        "/api/control/overrides",
        "/api/control/flatten",
    }
    post = paths["/api/control/processes/{process}"]["post"]
    assert {"409", "422"} <= set(post["responses"]) and "put" in paths[
        "/api/control/processes/{process}/window"
    ]
    assert document["components"]["schemas"]["Process"]["enum"] == [p.value for p in Process]
    assert {"202", "503"} <= set(paths["/api/control/flatten"]["post"]["responses"])
