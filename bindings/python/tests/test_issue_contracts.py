"""Contracts of issues 23 (going live) and 24 (the accelerator's merchant check), verbatim.

Each runs with the accelerator on and, in the suite's second pass (WECHATPAY_REFUND_PURE_PYTHON=1),
on the generated code alone.
"""


def test_a_notification_for_another_merchant_is_refused_on_every_path():
    import time, wechatpay_refund as wr
    sb = wr.Sandbox.start(); k = sb.credentials()
    sb.create_order("TM1", 1000)
    wr.RefundClient(sb.client_config()).create_refund(wr.CreateRefundRequest(out_trade_no="TM1", out_refund_no="RM1",
        amount=wr.RefundAmountInput(refund=1, total=1000)))
    sb.set_refund_status("RM1", wr.RefundStatus.SUCCESS)
    n = sb.notification("RM1")
    for kw in (dict(mchid="1999999999"), dict(mchid=k.mchid, service_provider=True)):
        cfg = wr.ClientConfig(**{**dict(mchid=k.mchid, merchant_serial_no=k.merchant_serial_no,
            merchant_private_key_pem=k.merchant_private_key_pem, api_v3_key=k.api_v3_key,
            wechatpay_public_key_id=k.wechatpay_public_key_id, wechatpay_public_key_pem=k.wechatpay_public_key_pem,
            base_url=k.base_url), **kw})
        try:
            wr.parse_notification_at(cfg, n.headers, n.body, int(time.time()))
            raise AssertionError(f"a notification for another merchant was accepted: {kw}")
        except wr.RefundError.NotificationMismatch:
            pass


def test_going_live_contract():
    import io
    import wechatpay_refund as wr
    sb = wr.Sandbox.start(); k = sb.credentials()
    client = wr.RefundClient(wr.ClientConfig(mchid=k.mchid, merchant_serial_no=k.merchant_serial_no,
        merchant_private_key_pem=k.merchant_private_key_pem, api_v3_key=k.api_v3_key,
        wechatpay_public_key_id=k.wechatpay_public_key_id, wechatpay_public_key_pem=k.wechatpay_public_key_pem,
        base_url=k.base_url, options=wr.ClientOptions(max_attempts=1, replay_guard_capacity=1000)))
    sb.create_order("TG1", 1000)
    sb.inject_fault(wr.SandboxFault.DROP_CONNECTION(), 1)            # processed, then no answer
    try:
        client.create_refund(wr.CreateRefundRequest(out_trade_no="TG1", out_refund_no="RG1",
                                                    amount=wr.RefundAmountInput(refund=1, total=1000)))
    except wr.RefundError as e:
        assert e.is_outcome_unknown()                                # query it or resend RG1; never a new number
    sb.set_refund_status("RG1", wr.RefundStatus.SUCCESS)
    n = sb.notification("RG1")
    client.parse_notification(n.headers, n.body)                     # the merchant's store failed: 500
    assert client.parse_notification(n.headers, n.body).out_refund_no == "RG1"   # re-delivered: accepted
    meta = {"HTTP_" + h.upper().replace("-", "_"): v for h, v in n.headers.items()}
    meta["wsgi.input"] = io.BytesIO(n.body)                          # Django's request.META as it is
    assert client.parse_notification(meta, n.body).out_refund_no == "RG1"


def test_the_contract_above_took_the_unknown_outcome_branch():
    """The going-live contract only checks `is_outcome_unknown` if the refund raised: make sure
    the dropped answer does raise, that a re-delivery is marked, and that the first is not."""
    import wechatpay_refund as wr
    sb = wr.Sandbox.start(); k = sb.credentials()
    client = wr.RefundClient(wr.ClientConfig(mchid=k.mchid, merchant_serial_no=k.merchant_serial_no,
        merchant_private_key_pem=k.merchant_private_key_pem, api_v3_key=k.api_v3_key,
        wechatpay_public_key_id=k.wechatpay_public_key_id, wechatpay_public_key_pem=k.wechatpay_public_key_pem,
        base_url=k.base_url, options=wr.ClientOptions(max_attempts=1, replay_guard_capacity=10)))
    sb.create_order("TG2", 1000)
    sb.inject_fault(wr.SandboxFault.DROP_CONNECTION(), 1)
    req = wr.CreateRefundRequest(out_trade_no="TG2", out_refund_no="RG2",
                                 amount=wr.RefundAmountInput(refund=1, total=1000))
    try:
        client.create_refund(req)
        raise AssertionError("a dropped answer must raise")
    except wr.RefundError.Transport as e:
        assert e.is_outcome_unknown() and e.is_retryable()
    assert client.create_refund(req).out_refund_no == "RG2"       # the same number: one refund
    assert sb.refund_count("TG2") == 1
    try:
        client.query_refund("R-NOT-THERE")
    except wr.RefundError.Api as e:
        assert not e.is_outcome_unknown() and not e.is_retryable()
    sb.set_refund_status("RG2", wr.RefundStatus.SUCCESS)
    n = sb.notification("RG2")
    first = client.parse_notification(n.headers, n.body)
    again = client.parse_notification(n.headers, n.body)
    assert (first.seen_before, again.seen_before) == (False, True)
    redelivered = sb.notification("RG2")                            # same id, freshly signed
    assert redelivered.headers["Wechatpay-Nonce"] != n.headers["Wechatpay-Nonce"]
    assert client.parse_notification(redelivered.headers, redelivered.body).seen_before


def test_any_header_mapping_works_for_the_sans_io_parse_too():
    import io
    import time
    import wechatpay_refund as wr
    sb = wr.Sandbox.start()
    config = sb.client_config()
    sb.create_order("TG3", 1000)
    wr.RefundClient(config).create_refund(wr.CreateRefundRequest(
        out_trade_no="TG3", out_refund_no="RG3", amount=wr.RefundAmountInput(refund=1, total=1000)))
    sb.set_refund_status("RG3", wr.RefundStatus.SUCCESS)
    n = sb.notification("RG3")
    meta = {"HTTP_" + h.upper().replace("-", "_"): v for h, v in n.headers.items()}
    meta.update({"wsgi.input": io.BytesIO(n.body), "SERVER_PORT": 8000, 1: "x"})
    note = wr.parse_notification_at(config, meta, n.body, int(time.time()))
    assert note.out_refund_no == "RG3" and note.seen_before is False
