"""The committed generated code is exactly what regenerating produces, and the generator notices drift."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest

from kestrel_contracts import codegen


def test_committed_code_equals_regeneration(capsys: pytest.CaptureFixture[str]) -> None:
    # This is the test that fails when someone edits a .proto without running codegen (or edits the
    # generated code by hand): `codegen --check` must report nothing to change.
    assert codegen.main(["--check"]) == 0, capsys.readouterr().out


def test_regeneration_is_byte_for_byte_deterministic() -> None:
    proto_root = codegen.repo_root() / "proto"
    assert codegen.render(proto_root) == codegen.render(proto_root)


def test_check_lists_changed_and_stale_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "v1"
    shutil.copytree(codegen.default_out_dir(), out, ignore=shutil.ignore_patterns("__pycache__"))
    (out / "bar_pb2.py").write_text((out / "bar_pb2.py").read_text() + "# hand edit\n")
    (out / "removed_pb2.py").write_text("# generated from a .proto that no longer exists\n")
    capsys.readouterr()

    assert codegen.main(["--check", "--out-dir", str(out)]) == 1
    report = capsys.readouterr().out
    assert f"would write: {out / 'bar_pb2.py'}" in report
    assert f"would delete: {out / 'removed_pb2.py'}" in report
    assert "hand edit" in (out / "bar_pb2.py").read_text(), "--check must not modify anything"

    assert codegen.main(["--out-dir", str(out)]) == 0
    assert not (out / "removed_pb2.py").exists()
    assert codegen.main(["--check", "--out-dir", str(out)]) == 0


def test_generation_into_an_empty_directory_writes_every_file(tmp_path: Path) -> None:
    out = tmp_path / "fresh"
    assert codegen.main(["--out-dir", str(out)]) == 0
    committed = {p.name for p in codegen.default_out_dir().iterdir() if p.is_file()}
    assert {p.name for p in out.iterdir()} == committed


def test_missing_proto_directory_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert codegen.main(["--check", "--proto-root", str(tmp_path)]) == 2
    assert "no .proto files" in capsys.readouterr().err


def test_generated_modules_import_under_the_package_name() -> None:
    names = sorted(p.stem for p in codegen.default_out_dir().glob("*_pb2.py"))
    assert len(names) == len(codegen.proto_files(codegen.repo_root() / "proto"))
    for name in names:
        module = importlib.import_module(f"kestrel_contracts.v1.{name}")
        for message_name in module.DESCRIPTOR.message_types_by_name:
            assert getattr(module, message_name).__module__ == f"kestrel_contracts.v1.{name}"
        # The registered proto file name stays the language-neutral path other generators use.
        assert module.DESCRIPTOR.name == f"kestrel/v1/{name.removesuffix('_pb2')}.proto"


def test_rewrite_imports_targets_the_package() -> None:
    generated = (
        "from kestrel.v1 import common_pb2 as kestrel_dot_v1_dot_common__pb2\n"
        "_builder.BuildTopDescriptorsAndMessages(DESCRIPTOR, 'kestrel.v1.tick_pb2', _globals)\n"
    )
    rewritten = codegen.rewrite_imports(generated, "tick_pb2.py")
    assert "from kestrel_contracts.v1 import common_pb2 as kestrel_dot_v1_dot_common__pb2\n" in rewritten
    assert "(DESCRIPTOR, 'kestrel_contracts.v1.tick_pb2', _globals)" in rewritten


def test_rewrite_imports_refuses_an_unknown_import_form() -> None:
    with pytest.raises(codegen.CodegenError, match="left after rewriting"):
        codegen.rewrite_imports("import kestrel.v1.common_pb2\n", "x_pb2.py")
