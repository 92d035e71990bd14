"""A real configuration never prints its secrets: repr() and str() of ClientConfig and
RefundClient (and their errors) show neither the private key nor the API v3 key."""

import pytest

import wechatpay_refund as wr


def secret_fragments(keys):
    pem = keys["merchant"]["private_key_pkcs8_pem"]
    body = "".join(pem.strip().splitlines()[1:-1])
    return ["PRIVATE KEY", keys["api_v3_key"], body[:24], body[100:124], body[-24:]]


def all_text(obj):
    return repr(obj) + "\n" + str(obj) + "\n" + format(obj) + "\n" + "%s %r" % (obj, obj)


def assert_clean(text, keys):
    for s in secret_fragments(keys):
        assert s not in text, "leaked %r in %r" % (s[:12], text)


def test_client_config_and_client(vector_config, keys):
    text = all_text(vector_config)
    assert_clean(text, keys)
    assert keys["mchid"] in text and keys["wechatpay_public_key"]["id"] in text   # still useful
    client = wr.RefundClient(vector_config)
    assert_clean(all_text(client), keys)
    assert keys["mchid"] in str(client)


def test_pkcs1_key_and_certificate_mode(keys):
    cfg = wr.ClientConfig(mchid=keys["mchid"], merchant_serial_no=keys["merchant"]["serial_no"],
                          merchant_private_key_pem=keys["merchant"]["private_key_pkcs1_pem"],
                          api_v3_key=keys["api_v3_key"],
                          platform_certificates_pem=[keys["platform"]["certificate_pem"]],
                          options=wr.ClientOptions(platform_trust_anchors_pem=[keys["platform"]["certificate_pem"]]))
    text = all_text(cfg) + all_text(wr.RefundClient(cfg))
    assert "RSA PRIVATE KEY" not in text and keys["api_v3_key"] not in text
    assert_clean(text, keys)


def test_signer_config(keys):
    class S(wr.Signer):
        def sign(self, message):
            return b"x"

    cfg = wr.ClientConfig.with_signer(mchid=keys["mchid"], merchant_serial_no=keys["merchant"]["serial_no"],
                                      signer=S(), api_v3_key=keys["api_v3_key"],
                                      wechatpay_public_key_id=keys["wechatpay_public_key"]["id"],
                                      wechatpay_public_key_pem=keys["wechatpay_public_key"]["public_key_pem"])
    assert_clean(all_text(cfg) + all_text(wr.RefundClient(cfg)), keys)


def test_sandbox_config_and_client(sandbox, client):
    k = sandbox.credentials()
    for obj in (sandbox.client_config(), client):
        text = all_text(obj)
        assert "PRIVATE KEY" not in text and k.api_v3_key not in text
        assert k.base_url in text


def test_config_errors_do_not_echo_secrets(keys):
    bad_keys = [keys["api_v3_key"][:31], keys["api_v3_key"] + "!"]
    for bad in bad_keys:
        with pytest.raises(wr.RefundError.Config) as ei:
            wr.ClientConfig(mchid=keys["mchid"], merchant_serial_no=keys["merchant"]["serial_no"],
                            merchant_private_key_pem=keys["merchant"]["private_key_pkcs8_pem"], api_v3_key=bad,
                            wechatpay_public_key_id=keys["wechatpay_public_key"]["id"],
                            wechatpay_public_key_pem=keys["wechatpay_public_key"]["public_key_pem"])
        assert bad not in all_text(ei.value)
    # A private key passed where a public key belongs is not echoed back either.
    with pytest.raises(wr.RefundError.Config) as ei:
        wr.ClientConfig(mchid=keys["mchid"], merchant_serial_no=keys["merchant"]["serial_no"],
                        merchant_private_key_pem=keys["merchant"]["private_key_pkcs8_pem"],
                        api_v3_key=keys["api_v3_key"],
                        wechatpay_public_key_id=keys["wechatpay_public_key"]["id"],
                        wechatpay_public_key_pem=keys["merchant"]["private_key_pkcs8_pem"])
    text = all_text(ei.value)
    body = "".join(keys["merchant"]["private_key_pkcs8_pem"].strip().splitlines()[1:-1])
    assert body[:24] not in text and body[-24:] not in text
