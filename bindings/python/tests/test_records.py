"""Pythonic records (issue 12.3): repr with name=value for every field (secrets redacted), value
equality, to_dict() with plain values."""

import inspect
import json

import wechatpay_refund as wr


def records():
    g = wr._generated
    for name in g.__all__:
        cls = getattr(g, name)
        if isinstance(cls, type) and hasattr(cls, "_wr_fields"):
            yield cls


def test_every_record_class_is_covered():
    names = {c.__name__ for c in records()}
    for needed in ("Refund", "RefundAmount", "RefundNotification", "CreateRefundRequest",
                   "AbnormalRefundRequest", "HttpRequest", "SandboxCredentials", "PlatformCertificate"):
        assert needed in names, needed
    for cls in records():
        params = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        assert list(cls._wr_fields) == params, cls.__name__


def test_repr_names_every_field_and_redacts_secrets(sandbox, client):
    from conftest import unique

    order = unique("T")
    sandbox.create_order(order, 10000)
    r = client.create_refund(wr.CreateRefundRequest(out_trade_no=order, out_refund_no=unique("R"),
                                                    amount=wr.RefundAmountInput(refund=1, total=10000)))
    text = repr(r)
    assert text.startswith("Refund(refund_id=")
    for field in r._wr_fields:
        assert field + "=" in text, field
    assert "status=RefundStatus.PROCESSING" in text
    req = wr.AbnormalRefundRequest(refund_id="1", out_refund_no="R", kind=wr.AbnormalRefundKind.USER_BANK_CARD,
                                   bank_type="ICBC_DEBIT", bank_account="6222021234567890", real_name="张三")
    assert "6222021234567890" not in repr(req) and "张三" not in repr(req)
    assert "bank_account=<redacted>" in repr(req)
    creds = repr(sandbox.credentials())
    assert "PRIVATE KEY" not in creds and sandbox.credentials().api_v3_key not in creds


def test_to_dict_and_equality(sandbox, client):
    from conftest import unique

    order = unique("T")
    sandbox.create_order(order, 10000)
    r = client.create_refund(wr.CreateRefundRequest(out_trade_no=order, out_refund_no=unique("R"),
                                                    amount=wr.RefundAmountInput(refund=1, total=10000)))
    d = r.to_dict()
    assert d["status"] == "PROCESSING" and d["amount"]["refund"] == 1
    json.dumps(d)  # plain values only
    copy = wr.Refund(**{f: getattr(r, f) for f in r._wr_fields})
    assert copy == r
    copy.refund_id = "other"
    assert copy != r
    a, b = wr.RefundAmountInput(refund=1, total=2), wr.RefundAmountInput(refund=1, total=2)
    assert a == b and a != wr.RefundAmountInput(refund=2, total=2)


def test_the_standard_dataclass_functions_see_the_real_fields():
    """dataclasses.is_dataclass(record) is true: asdict()/fields()/replace() must then see the
    real fields (they once saw none, and asdict() silently gave {})."""
    import dataclasses

    import wechatpay_refund as wr

    r = wr.CreateRefundRequest(out_trade_no="T1", out_refund_no="R1",
                               amount=wr.RefundAmountInput(refund=1, total=10))
    assert dataclasses.is_dataclass(r)
    assert [f.name for f in dataclasses.fields(r)] == list(type(r)._wr_fields)
    d = dataclasses.asdict(r)
    assert d["out_refund_no"] == "R1" and d["amount"] == {"refund": 1, "total": 10, "currency": "CNY", "funds_from": []}
    changed = dataclasses.replace(r, out_refund_no="R2")
    assert changed.out_refund_no == "R2" and changed.amount == r.amount and r.out_refund_no == "R1"
    assert r != changed and r == wr.CreateRefundRequest(out_trade_no="T1", out_refund_no="R1",
                                                        amount=wr.RefundAmountInput(refund=1, total=10))
