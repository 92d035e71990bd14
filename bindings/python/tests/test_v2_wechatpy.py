"""The sandbox's v2 endpoint through a peer v2 library, wechatpy (mutual TLS with `requests`,
its own MD5 signing, XML and req_info decryption). Skipped when wechatpy is not installed:
`pip install wechatpy` in the test venv turns it on."""

import os

import pytest

import wechatpay_refund as wr

wechatpy_pay = pytest.importorskip("wechatpy.pay")


def test_wechatpy_against_the_sandbox(tmp_path, monkeypatch, ids):
    sb = wr.Sandbox.start()
    try:
        c = sb.v2_credentials()
        files = {}
        for name, pem in [("ca", c.ca_pem), ("cert", c.client_cert_pem), ("key", c.client_key_pem)]:
            p = tmp_path / (name + ".pem")
            p.write_text(pem)
            files[name] = str(p)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", files["ca"])
        pay = wechatpy_pay.WeChatPay(appid=c.appid, api_key=c.api_key, mch_id=c.mch_id,
                                     mch_cert=files["cert"], mch_key=files["key"])
        pay.API_BASE_URL = c.base_url + "/"
        order, no = ids("T"), ids("R")
        sb.create_order(order, 1000)
        r = pay.refund.apply(total_fee=1000, refund_fee=300, out_refund_no=no, out_trade_no=order)
        assert r["result_code"] == "SUCCESS" and int(r["refund_fee"]) == 300
        assert pay.refund.query(out_refund_no=no)["refund_status_0"] == "PROCESSING"
        sb.set_refund_status(no, wr.RefundStatus.SUCCESS)
        note = pay.parse_refund_notify_result(sb.v2_notification(no))
        assert note["out_refund_no"] == no and note["refund_status"] == "SUCCESS"
        # The peer's refund and ours share the order book.
        v2 = wr.V2RefundClient(sb.v2_config())
        v2.refund(wr.V2RefundRequest(out_trade_no=order, out_refund_no=ids("R"), total_fee=1000, refund_fee=700))
        with pytest.raises(Exception) as ei:
            pay.refund.apply(total_fee=1000, refund_fee=1, out_refund_no=ids("R"), out_trade_no=order)
        assert getattr(ei.value, "errcode", None) == "TRADE_STATE_ERROR"
        assert os.environ["REQUESTS_CA_BUNDLE"] == files["ca"]
    finally:
        sb.stop()
