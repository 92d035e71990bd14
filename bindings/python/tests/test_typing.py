"""Type information: the package is typed (PEP 561 `py.typed`), `mypy --strict` accepts the
examples and the public contract program, and the hand-written `_errors.pyi` (the one piece of
type information the generated module cannot give: `RefundError`'s variants) matches the
generated exceptions exactly."""

import ast
import importlib.resources
import inspect
import os
import pathlib
import subprocess
import sys

import pytest

import wechatpay_refund as wr
from conftest import EXAMPLES

G = wr._generated
PACKAGE = importlib.resources.files("wechatpay_refund")


def test_the_package_is_marked_typed():
    assert PACKAGE.joinpath("py.typed").is_file()
    assert PACKAGE.joinpath("_errors.pyi").is_file()


def _stub_variants():
    tree = ast.parse(PACKAGE.joinpath("_errors.pyi").read_text(encoding="utf-8"))
    (refund_error,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "RefundError"]
    variants = {}
    for node in refund_error.body:
        if not isinstance(node, ast.ClassDef):
            continue
        assert [b.id for b in node.bases] == ["RefundError"], node.name
        fields = [s.target.id for s in node.body if isinstance(s, ast.AnnAssign)]
        (init,) = [s for s in node.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"]
        params = [a.arg for a in init.args.args][1:]
        assert params == fields, "%s: __init__ %s, attributes %s" % (node.name, params, fields)
        variants[node.name] = fields
    return variants


def _generated_variants():
    variants = {}
    for name, cls in vars(G.RefundError).items():
        if isinstance(cls, type) and issubclass(cls, Exception):
            variants[name] = list(inspect.signature(cls.__init__).parameters)[1:]
    return variants


def test_the_error_stub_matches_the_generated_exceptions():
    stub, generated = _stub_variants(), _generated_variants()
    assert list(stub) == list(generated)
    for name in generated:
        assert stub[name] == generated[name], name


def test_the_stubbed_attributes_exist_on_real_errors(vector_config):
    with pytest.raises(wr.RefundError.InvalidInput) as ei:
        wr.build_query_refund_request(vector_config, "", None, 1700000000, "n")
    assert set(_stub_variants()["InvalidInput"]) <= set(vars(ei.value))


@pytest.mark.skipif(os.environ.get("WECHATPAY_REFUND_PURE_PYTHON", "") not in ("", "0"),
                    reason="type checking does not depend on the implementation: run once")
def test_mypy_strict_accepts_the_examples_and_the_contract(tmp_path):
    pytest.importorskip("mypy")
    import test_contract

    contract = tmp_path / "contract.py"
    contract.write_text(test_contract.contract_program(), encoding="utf-8")
    files = sorted(str(p) for p in pathlib.Path(EXAMPLES).glob("*.py")) + [str(contract)]
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), *files],
        capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
