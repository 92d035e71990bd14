"""The PUBLIC CONTRACT of the Python binding: this program must run unchanged against the wheel.

`test_public_contract` holds it verbatim (only indented into a function);
`test_public_contract_as_a_script` runs the very same text as a standalone program, in a fresh
interpreter, so module-level use (no fixtures, no pytest) is covered too.
"""

import inspect
import subprocess
import sys
import textwrap


def test_public_contract():
    import wechatpay_refund as wr
    sandbox = wr.Sandbox.start()
    sandbox.create_order("T1001", 10000)
    client = wr.RefundClient(sandbox.client_config())
    r = client.create_refund(wr.CreateRefundRequest(out_trade_no="T1001", out_refund_no="R1",
            amount=wr.RefundAmountInput(refund=100, total=10000)))
    assert r.status == wr.RefundStatus.PROCESSING and r.amount.refund == 100
    sandbox.set_refund_status("R1", wr.RefundStatus.ABNORMAL)
    r = client.query_refund("R1", None)
    assert r.status == wr.RefundStatus.ABNORMAL
    r = client.apply_abnormal_refund(wr.AbnormalRefundRequest(refund_id=r.refund_id, out_refund_no="R1",
            kind=wr.AbnormalRefundKind.USER_BANK_CARD, bank_type="ICBC_DEBIT",
            bank_account="6222021234567890", real_name="张三"))
    sandbox.set_refund_status("R1", wr.RefundStatus.SUCCESS)
    n = sandbox.notification("R1")               # headers: dict[str, str], body: bytes
    note = client.parse_notification(n.headers, n.body)
    assert note.out_refund_no == "R1" and note.refund_status == wr.RefundStatus.SUCCESS
    try:
        client.query_refund("R404", None)
        raise AssertionError("an unknown refund must raise RefundError.Api")
    except wr.RefundError.Api as e:
        assert e.status == 404 and e.code == "RESOURCE_NOT_EXISTS" and e.request_id
    k = sandbox.credentials()      # test credentials, printable: mchid, merchant_serial_no, merchant_private_key_pem,
                                   # api_v3_key, wechatpay_public_key_id, wechatpay_public_key_pem, base_url
    cfg = wr.ClientConfig(mchid=k.mchid, merchant_serial_no=k.merchant_serial_no,
            merchant_private_key_pem=k.merchant_private_key_pem, api_v3_key=k.api_v3_key,
            wechatpay_public_key_id=k.wechatpay_public_key_id,
            wechatpay_public_key_pem=k.wechatpay_public_key_pem, base_url=k.base_url)  # other fields defaulted
    assert "PRIVATE KEY" not in repr(cfg) + str(cfg)   # a real config never prints its secrets


def contract_program():
    """The contract's text, exactly as written in test_public_contract (dedented)."""
    src = inspect.getsource(test_public_contract)
    body = src.split("\n", 1)[1]
    return textwrap.dedent(body)


def test_public_contract_as_a_script(tmp_path):
    script = tmp_path / "contract.py"
    script.write_text(contract_program(), encoding="utf-8")
    # Run from an empty directory: the module must come from the installed wheel.
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
