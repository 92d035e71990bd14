"""The embedded sandbox from Python: key modes, credentials, bookkeeping, faults, lifecycle."""

import socket
import urllib.error
import urllib.request

import pytest

import wechatpay_refund as wr
from conftest import unique


def lifecycle(sb, client):
    order = unique("T")
    tx = sb.create_order(order, 5000)
    assert tx.startswith("4200")
    no = unique("R")
    r = client.create_refund(wr.CreateRefundRequest(out_trade_no=order, out_refund_no=no,
                                                    amount=wr.RefundAmountInput(refund=1000, total=5000)))
    assert (r.transaction_id, r.out_trade_no) == (tx, order)
    sb.set_refund_status(no, wr.RefundStatus.ABNORMAL)
    r = client.query_refund(no, None)
    r = client.apply_abnormal_refund(wr.AbnormalRefundRequest(
        refund_id=r.refund_id, out_refund_no=no, kind=wr.AbnormalRefundKind.MERCHANT_BANK_CARD))
    # To the merchant's settlement bank account (seed): another bank card.
    assert r.status == wr.RefundStatus.PROCESSING and r.channel == wr.RefundChannel.OTHER_BANKCARD
    assert r.user_received_account == "商户结算银行账户"
    sb.set_refund_status(no, wr.RefundStatus.SUCCESS)
    notes = [client.parse_notification(n.headers, n.body) for n in (sb.notification(no), sb.notification(no))]
    for note in notes:
        assert note.out_refund_no == no and note.refund_status == wr.RefundStatus.SUCCESS
        assert note.transaction_id == tx and note.success_time
    return no


@pytest.mark.parametrize("mode", [wr.SandboxKeyMode.PUBLIC_KEY, wr.SandboxKeyMode.CERTIFICATE, wr.SandboxKeyMode.BOTH])
def test_key_modes(mode):
    sb = wr.Sandbox.start_with(wr.SandboxOptions(mode=mode))
    try:
        k = sb.credentials()
        has_public = mode != wr.SandboxKeyMode.CERTIFICATE
        has_cert = mode != wr.SandboxKeyMode.PUBLIC_KEY
        assert (k.wechatpay_public_key_id is not None) == has_public
        assert (k.wechatpay_public_key_pem is not None) == has_public
        assert (k.platform_certificate_pem is not None) == has_cert
        assert (k.platform_certificate_serial_no is not None) == has_cert
        if has_public:
            assert k.wechatpay_public_key_id.startswith("PUB_KEY_ID_")
            assert "BEGIN PUBLIC KEY" in k.wechatpay_public_key_pem
        if has_cert:
            assert "BEGIN CERTIFICATE" in k.platform_certificate_pem
        cfg = sb.client_config()
        assert len(cfg.wechatpay_key_ids()) == int(has_public) + int(has_cert)
        lifecycle(sb, wr.RefundClient(cfg))
        # The printable credentials work for a configuration built by hand, too.
        own = wr.ClientConfig(
            mchid=k.mchid, merchant_serial_no=k.merchant_serial_no,
            merchant_private_key_pem=k.merchant_private_key_pem, api_v3_key=k.api_v3_key,
            wechatpay_public_key_id=k.wechatpay_public_key_id, wechatpay_public_key_pem=k.wechatpay_public_key_pem,
            platform_certificates_pem=[k.platform_certificate_pem] if has_cert else [], base_url=k.base_url,
            options=wr.ClientOptions(platform_trust_anchors_pem=k.platform_trust_anchors_pem))
        lifecycle(sb, wr.RefundClient(own))
    finally:
        sb.stop()


def test_credentials_are_printable_test_credentials(sandbox):
    k = sandbox.credentials()
    assert k.mchid == "1900000001"
    assert "PRIVATE KEY" in k.merchant_private_key_pem
    assert len(k.api_v3_key) == 32
    assert k.base_url == sandbox.base_url() and k.base_url.startswith("http://127.0.0.1:")


def test_options_mchid_and_supplied_keys(keys):
    sb = wr.Sandbox.start_with(wr.SandboxOptions(
        mchid="1230000109", merchant_private_key_pem=keys["merchant"]["private_key_pkcs8_pem"],
        wechatpay_private_key_pem=keys["wechatpay_public_key"]["private_key_pkcs8_pem"]))
    try:
        k = sb.credentials()
        assert k.mchid == "1230000109"
        # The supplied WeChat Pay key: the golden vectors' public key verifies the sandbox.
        assert "".join(k.wechatpay_public_key_pem.split()) == "".join(keys["wechatpay_public_key"]["public_key_pem"].split())
        lifecycle(sb, wr.RefundClient(sb.client_config()))
    finally:
        sb.stop()


def test_bookkeeping(sandbox, client):
    order = unique("T")
    sandbox.create_order(order, 1000)
    with pytest.raises(wr.RefundError.InvalidInput):
        sandbox.create_order(order, 1000)                     # exists already
    before = sandbox.request_count()
    for i, amount in enumerate((100, 250)):
        client.create_refund(wr.CreateRefundRequest(out_trade_no=order, out_refund_no="%s-%d" % (order, i),
                                                    amount=wr.RefundAmountInput(refund=amount, total=1000)))
    # The same out_refund_no again: the same refund, not a new one.
    again = client.create_refund(wr.CreateRefundRequest(out_trade_no=order, out_refund_no="%s-0" % order,
                                                        amount=wr.RefundAmountInput(refund=100, total=1000)))
    assert again.amount.refund == 100
    assert sandbox.refund_count(order) == 2 and sandbox.refunded_total(order) == 350
    assert sandbox.request_count() == before + 3
    with pytest.raises(wr.RefundError.Api) as ei:              # over the refundable amount
        client.create_refund(wr.CreateRefundRequest(out_trade_no=order, out_refund_no=order + "-9",
                                                    amount=wr.RefundAmountInput(refund=700, total=1000)))
    assert ei.value.status == 400 and ei.value.code == "INVALID_REQUEST"
    assert sandbox.refund_count("NO_SUCH_ORDER") == 0


def test_notification_needs_a_final_status(sandbox, client):
    order = unique("T")
    sandbox.create_order(order, 1000)
    no = order + "-n"
    client.create_refund(wr.CreateRefundRequest(out_trade_no=order, out_refund_no=no,
                                                amount=wr.RefundAmountInput(refund=1, total=1000)))
    with pytest.raises(wr.RefundError.InvalidInput):
        sandbox.notification(no)                             # still PROCESSING
    with pytest.raises(wr.RefundError.InvalidInput):
        sandbox.notification("R-NO-SUCH-REFUND")
    with pytest.raises(wr.RefundError.InvalidInput):
        sandbox.set_refund_status("R-NO-SUCH-REFUND", wr.RefundStatus.SUCCESS)
    sandbox.set_refund_status(no, wr.RefundStatus.CLOSED)
    n = sandbox.notification(no)
    assert set(n.headers) >= {"Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature",
                              "Wechatpay-Serial", "Wechatpay-Signature-Type"}
    note = client.parse_notification(n.headers, n.body)
    assert note.event_type == wr.NotificationEventType.REFUND_CLOSED and note.success_time is None


def test_faults_are_consumed_in_order(sandbox):
    client = wr.RefundClient(wr.ClientConfig(**_cfg_args(sandbox, max_attempts=1)))
    sandbox.inject_fault(wr.SandboxFault.FREQUENCY_LIMITED(), 1)
    sandbox.inject_fault(wr.SandboxFault.SYSTEM_ERROR(), 2)
    codes = []
    for _ in range(4):
        try:
            client.query_refund("R404", None)
        except wr.RefundError.Api as e:
            codes.append(e.status)
    assert codes == [429, 500, 500, 404]
    sandbox.inject_fault(wr.SandboxFault.SYSTEM_ERROR(), 5)
    sandbox.clear_faults()
    with pytest.raises(wr.RefundError.Api) as ei:
        client.query_refund("R404", None)
    assert ei.value.status == 404
    assert wr.SandboxFault.DELAY(millis=5) == wr.SandboxFault.DELAY(millis=5)
    assert wr.SandboxFault.DELAY(millis=5) != wr.SandboxFault.DELAY(millis=6)


def test_wechat_pay_refusals_can_be_injected(sandbox):
    client = wr.RefundClient(wr.ClientConfig(**_cfg_args(sandbox, max_attempts=1)))
    order = unique("T")
    sandbox.create_order(order, 1000)

    def refund(no):
        return client.create_refund(wr.CreateRefundRequest(
            out_trade_no=order, out_refund_no=no, amount=wr.RefundAmountInput(refund=100, total=1000)))

    for refusal, status, code in [(wr.SandboxRefusal.NOT_ENOUGH, 403, "NOT_ENOUGH"),
                                  (wr.SandboxRefusal.USER_ACCOUNT_ABNORMAL, 403, "USER_ACCOUNT_ABNORMAL"),
                                  (wr.SandboxRefusal.MCH_NOT_EXISTS, 404, "MCH_NOT_EXISTS")]:
        sandbox.inject_fault(wr.SandboxFault.REFUSAL(refusal=refusal, after_processing=False), 1)
        with pytest.raises(wr.RefundError.Api) as ei:
            refund(order + "-a")
        assert (ei.value.status, ei.value.code) == (status, code)
    assert sandbox.refunded_total(order) == 0
    # After processing: the error hides an accepted refund; the same number again is that refund.
    sandbox.inject_fault(wr.SandboxFault.REFUSAL(refusal=wr.SandboxRefusal.SYSTEM_ERROR, after_processing=True), 1)
    with pytest.raises(wr.RefundError.Api) as ei:
        refund(order + "-b")
    assert ei.value.status == 500
    assert sandbox.refunded_total(order) == 100
    assert refund(order + "-b").amount.refund == 100
    assert sandbox.refunded_total(order) == 100


def test_sub_merchant_orders_and_the_clock():
    sb = wr.Sandbox.start_with(wr.SandboxOptions(enforce_limits=True, notify_retry_speedup=100))
    try:
        client = wr.RefundClient(sb.client_config())
        order = unique("T")
        sb.create_sub_merchant_order(order, 1000, "1900000109", None)
        req = wr.CreateRefundRequest(out_trade_no=order, out_refund_no=order + "-1",
                                     amount=wr.RefundAmountInput(refund=100, total=1000))
        with pytest.raises(wr.RefundError.Api) as ei:
            client.create_refund(req)                       # not the merchant's own order
        assert ei.value.status == 404
        req.sub_mchid = "1900000109"
        client.create_refund(req)
        req.out_refund_no = order + "-2"
        with pytest.raises(wr.RefundError.Api) as ei:
            client.create_refund(req)                       # one minute between refunds of an order
        assert (ei.value.status, ei.value.code) == (429, "FREQUENCY_LIMITED")
        sb.advance_clock(366 * 86400)
        with pytest.raises(wr.RefundError.Api) as ei:
            client.create_refund(req)                       # paid more than a year ago
        assert (ei.value.status, ei.value.code) == (400, "INVALID_REQUEST")
        sb.reset()
        assert sb.refund_count(order) == 0 and abs(sb.clock() - sb.advance_clock(0)) < 2
    finally:
        sb.stop()


def _cfg_args(sb, **options):
    k = sb.credentials()
    return dict(mchid=k.mchid, merchant_serial_no=k.merchant_serial_no,
                merchant_private_key_pem=k.merchant_private_key_pem, api_v3_key=k.api_v3_key,
                wechatpay_public_key_id=k.wechatpay_public_key_id,
                wechatpay_public_key_pem=k.wechatpay_public_key_pem, base_url=k.base_url,
                options=wr.ClientOptions(**options))


def test_unsigned_requests_are_refused():
    """The sandbox checks Authorization like WeChat Pay: a bare HTTP request gets 401 SIGN_ERROR."""
    sb = wr.Sandbox.start()
    try:
        req = urllib.request.Request(sb.base_url() + "/v3/refund/domestic/refunds/R1",
                                     headers={"Accept": "application/json", "User-Agent": "test"})
        with pytest.raises(urllib.error.HTTPError) as ei:
            urllib.request.urlopen(req, timeout=10)
        assert ei.value.code == 401 and b"SIGN_ERROR" in ei.value.read()
    finally:
        sb.stop()


def test_stop_frees_the_port_and_is_idempotent():
    sb = wr.Sandbox.start()
    port = int(sb.base_url().rsplit(":", 1)[1])
    sb.stop()
    sb.stop()
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))                          # free again
    finally:
        s.close()
    again = wr.Sandbox.start_with(wr.SandboxOptions(port=port))
    try:
        assert again.base_url() == "http://127.0.0.1:%d" % port
        with pytest.raises(wr.RefundError.Config):
            wr.Sandbox.start_with(wr.SandboxOptions(port=port))    # busy
    finally:
        again.stop()
