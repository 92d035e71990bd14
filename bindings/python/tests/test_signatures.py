"""Same signature on both paths (issue 12.4): the accelerator and the generated code take the
same arguments with the same defaults, so a call that works on one works on the other (and on
PyPy, where only the generated code runs)."""

import inspect

import pytest

import wechatpay_refund as wr


def resolve(name):
    obj = wr
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def test_every_accelerated_callable_has_the_generated_signature():
    if not wr.SPEEDUPS:
        pytest.skip("the generated code serves every call here")
    assert wr._PURE, "the accelerator replaced nothing"
    for name, generated in wr._PURE.items():
        fast = resolve(name)
        # Names, kinds and which parameters are optional (a compiled function carries no
        # annotations, and the generated code's default is its own sentinel).
        assert shape(fast) == shape(generated), name


def shape(fn):
    return [(p.name, p.kind, p.default is inspect.Parameter.empty)
            for p in inspect.signature(fn).parameters.values()]


def test_optional_arguments_have_defaults_in_the_generated_code():
    g = wr._generated
    assert inspect.signature(g.RefundClient.query_refund).parameters["sub_mchid"].default is not inspect.Parameter.empty
    assert inspect.signature(g.decrypt_resource).parameters["associated_data"].default is not inspect.Parameter.empty
    init = inspect.signature(g.ClientConfig.__init__).parameters
    for optional in ("wechatpay_public_key_id", "wechatpay_public_keys", "platform_certificates_pem",
                     "download_platform_certificates", "service_provider", "base_url", "options",
                     "merchant_certificate_pem"):
        assert init[optional].default is not inspect.Parameter.empty, optional


def test_the_short_call_works_on_both_paths(sandbox, client):
    calls = [client.query_refund]
    if "RefundClient.query_refund" in wr._PURE:
        calls.append(lambda no: wr._PURE["RefundClient.query_refund"](client, no))
    for query in calls:
        with pytest.raises(wr.RefundError.Api) as ei:
            query("R404-short-call")
        assert ei.value.status == 404


def test_every_custom_type_of_uniffi_toml_is_applied():
    """The open enums are UniFFI custom types configured in uniffi.toml: if that configuration
    were not read (a UniFFI upgrade, a misplaced file), the generated code would hand out plain
    strings -- which compare equal to the str-based enums, so nothing else would notice."""
    import pathlib
    import re
    import struct

    toml = (pathlib.Path(__file__).resolve().parents[3] / "uniffi.toml").read_text(encoding="utf-8")
    names = re.findall(r"^\[bindings\.python\.custom_types\.(\w+)\]", toml, re.M)
    assert len(names) >= 10, names
    g = wr._generated
    for name in names:
        data = struct.pack(">i", 3) + b"NEW"
        value = getattr(g, "_UniffiFfiConverterType" + name).read(g._UniffiRustBufferStream(data, len(data)))
        assert type(value) is getattr(wr._wire, name), name
        assert value.value == "NEW"
