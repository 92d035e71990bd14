"""Platform certificates and WeChat Pay public keys in production (issue 11), from Python."""

import time

import pytest

import wechatpay_refund as wr


@pytest.fixture()
def cert_sandbox():
    sb = wr.Sandbox.start_with(wr.SandboxOptions(mode=wr.SandboxKeyMode.CERTIFICATE))
    yield sb
    sb.stop()


def merchant(sb, **kwargs):
    c = sb.credentials()
    # Downloaded platform certificates must chain to the sandbox's TEST platform CA.
    kwargs.setdefault("options", wr.ClientOptions(platform_trust_anchors_pem=c.platform_trust_anchors_pem))
    return wr.ClientConfig(mchid=c.mchid, merchant_serial_no=c.merchant_serial_no,
                           merchant_private_key_pem=c.merchant_private_key_pem,
                           api_v3_key=c.api_v3_key, base_url=c.base_url, **kwargs)


def downloads(sb):
    return sum(1 for r in sb.requests() if r.method == "GET" and r.url.startswith("/v3/certificates"))


def test_the_contract(cert_sandbox):
    sandbox = cert_sandbox
    sandbox.create_order("T20261124001", 10000)
    config = merchant(sandbox, download_platform_certificates=True)  # no key material given
    client = wr.RefundClient(config)
    r = client.create_refund(wr.CreateRefundRequest(
        out_trade_no="T20261124001", out_refund_no="R1",
        amount=wr.RefundAmountInput(refund=100, total=10000)))  # fetches the certificates first
    assert r.status == wr.RefundStatus.PROCESSING
    serials = [c.serial_no for c in config.platform_certificates()]
    assert serials == [sandbox.credentials().platform_certificate_serial_no]
    cert = config.platform_certificates()[0]
    assert isinstance(cert.not_before, int) and cert.not_before < cert.not_after
    new_serial = sandbox.rotate_platform_certificate()
    assert isinstance(new_serial, str) and new_serial not in serials
    q = client.query_refund("R1")  # works: refreshed on the unknown serial
    assert q.out_refund_no == "R1"
    assert new_serial in [c.serial_no for c in config.platform_certificates()]
    assert downloads(sandbox) == 2


def test_without_key_material_and_download_off_is_a_config_error(cert_sandbox):
    with pytest.raises(wr.RefundError.Config) as ei:
        merchant(cert_sandbox)
    assert "download_platform_certificates" in ei.value.reason


def test_a_notification_after_a_rotation(cert_sandbox):
    sb = cert_sandbox
    sb.create_order("T20261124001", 10000)
    client = wr.RefundClient(merchant(sb, download_platform_certificates=True))
    client.create_refund(wr.CreateRefundRequest(out_trade_no="T20261124001", out_refund_no="R2",
                                                amount=wr.RefundAmountInput(refund=1, total=10000)))
    new_serial = sb.rotate_platform_certificate()
    sb.set_refund_status("R2", wr.RefundStatus.SUCCESS)
    n = sb.notification("R2")
    assert n.headers["Wechatpay-Serial"] == new_serial
    # A notification never waits for the 5 s download window (anyone can POST one): within it,
    # it is refused -- answered with a failure, WeChat Pay re-sends it 15 s later -- and the
    # re-sent one is verified after one download.
    try:
        note = client.parse_notification(n.headers, n.body)
    except wr.RefundError.UnknownSerial:
        time.sleep(5.2)
        note = client.parse_notification(n.headers, n.body)
    assert note.refund_status == wr.RefundStatus.SUCCESS
    assert downloads(sb) == 2


def test_several_public_keys_and_a_rotation():
    sb = wr.Sandbox.start()
    try:
        sb.create_order("T20261124001", 10000)
        c = sb.credentials()
        other_sb = wr.Sandbox.start()  # a second, unrelated public key
        other = other_sb.credentials()
        other_sb.stop()
        config = merchant(sb, wechatpay_public_keys=[
            wr.WechatpayPublicKey(id=other.wechatpay_public_key_id, pem=other.wechatpay_public_key_pem),
            wr.WechatpayPublicKey(id=c.wechatpay_public_key_id, pem=c.wechatpay_public_key_pem)])
        assert sorted(config.wechatpay_key_ids()) == sorted(
            [other.wechatpay_public_key_id, c.wechatpay_public_key_id])
        client = wr.RefundClient(config)
        client.create_refund(wr.CreateRefundRequest(out_trade_no="T20261124001", out_refund_no="R3",
                                                    amount=wr.RefundAmountInput(refund=1, total=10000)))
        new_id = sb.rotate_wechatpay_public_key()
        config.add_wechatpay_public_key(new_id, sb.credentials().wechatpay_public_key_pem)
        client.query_refund("R3")
        sb.expire_wechatpay_public_key(c.wechatpay_public_key_id)
        config.remove_wechatpay_key(c.wechatpay_public_key_id)
        config.remove_wechatpay_key(other.wechatpay_public_key_id)
        assert config.wechatpay_key_ids() == [new_id]
        client.query_refund("R3")
        with pytest.raises(wr.RefundError.Config):
            config.remove_wechatpay_key(new_id)  # never the last key
        # The single id/pem pair keeps working beside the list.
        merchant(sb, wechatpay_public_key_id=new_id,
                 wechatpay_public_key_pem=sb.credentials().wechatpay_public_key_pem)
    finally:
        sb.stop()
