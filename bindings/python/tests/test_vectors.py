"""Golden vectors (tests/vectors/*.json, made by an independent implementation) through the
sans-IO functions: the Python binding must produce byte-identical requests and the same
verification outcomes as the Rust core."""

import pytest

import wechatpay_refund as wr
from conftest import load_vector

PRODUCTION = "https://api.mch.weixin.qq.com"

SIGNING = load_vector("signing.json")
VERIFICATION = load_vector("verification.json")
NOTIFICATION = load_vector("notification.json")


def case(vectors, name):
    return next(c for c in vectors["cases"] if c["name"] == name)


def header(http, name):
    values = [h.value for h in http.headers if h.name.lower() == name.lower()]
    assert len(values) == 1, (name, http.headers)
    return values[0]


@pytest.fixture(scope="module", params=["private_key_pkcs8_pem", "private_key_pkcs1_pem"])
def config(request, keys):
    """Both key formats must sign identically (PKCS#1 v1.5 signatures are deterministic)."""
    return wr.ClientConfig(
        mchid=keys["mchid"],
        merchant_serial_no=keys["merchant"]["serial_no"],
        merchant_private_key_pem=keys["merchant"][request.param],
        api_v3_key=keys["api_v3_key"],
        wechatpay_public_key_id=keys["wechatpay_public_key"]["id"],
        wechatpay_public_key_pem=keys["wechatpay_public_key"]["public_key_pem"],
        platform_certificates_pem=[keys["platform"]["certificate_pem"]],
        options=wr.ClientOptions(platform_trust_anchors_pem=[keys["platform"]["certificate_pem"]]),
    )


def test_vector_files_are_the_expected_ones():
    assert SIGNING["mchid"] == "1900000001"
    assert {c["name"] for c in SIGNING["cases"]} >= {
        "create_refund", "create_refund_full", "query_refund_encoded",
        "query_refund_sub_mchid", "apply_abnormal_refund"}
    assert len(VERIFICATION["cases"]) >= 10 and len(NOTIFICATION["cases"]) >= 3


# ------------------------------------------------------------------ signing


def test_create_refund(config):
    c = case(SIGNING, "create_refund")
    req = wr.CreateRefundRequest(
        out_trade_no="1217752501201407033233368018", out_refund_no="R20261123001",
        amount=wr.RefundAmountInput(refund=888, total=888),
        reason="商品已售完", notify_url="https://merchant.example.com/wechatpay/refund-notify")
    http = wr.build_create_refund_request(config, req, c["timestamp"], c["nonce"])
    assert http.method == "POST"
    assert http.url == PRODUCTION + c["url"]
    assert isinstance(http.body, bytes)
    assert http.body == c["body"].encode("utf-8")
    assert header(http, "Authorization") == c["authorization"]


def test_create_refund_full(config):
    c = case(SIGNING, "create_refund_full")
    req = wr.CreateRefundRequest(
        out_refund_no="R-2026_11|23*x@y",
        amount=wr.RefundAmountInput(
            refund=600, total=1000, currency="CNY",
            # `amount.from` on the wire (`from` is a Python keyword)
            funds_from=[wr.FundsFrom(account=wr.FromAccount.AVAILABLE, amount=400),
                        wr.FundsFrom(account=wr.FromAccount.UNAVAILABLE, amount=200)]),
        transaction_id="1217752501201407033233368018",
        sub_mchid="1900000109",
        reason="部分退款",
        notify_url="https://merchant.example.com/notify",
        funds_account=wr.RequestFundsAccount.AVAILABLE,
        goods_detail=[wr.GoodsDetailInput(
            merchant_goods_id="SKU-1", unit_price=600, refund_amount=600, refund_quantity=1,
            wechatpay_goods_id="1001", goods_name="iPhone 16 测试")],
    )
    http = wr.build_create_refund_request(config, req, c["timestamp"], c["nonce"])
    assert http.body == c["body"].encode("utf-8")
    assert header(http, "Authorization") == c["authorization"]


def test_query_refund_with_percent_encoding(config):
    c = case(SIGNING, "query_refund_encoded")
    http = wr.build_query_refund_request(config, "R-2026_11|23*x@y", None, c["timestamp"], c["nonce"])
    assert http.method == "GET"
    assert http.body == b""
    assert http.url == PRODUCTION + c["url"]
    assert header(http, "Authorization") == c["authorization"]


def test_query_refund_sub_mchid(config):
    c = case(SIGNING, "query_refund_sub_mchid")
    http = wr.build_query_refund_request(config, "R20261123001", "1900000109", c["timestamp"], c["nonce"])
    assert http.url == PRODUCTION + c["url"]
    assert header(http, "Authorization") == c["authorization"]


def test_apply_abnormal_refund_merchant_card(config):
    c = case(SIGNING, "apply_abnormal_refund")
    req = wr.AbnormalRefundRequest(
        refund_id="50000000382019052709732678859", out_refund_no="R20261123001",
        kind=wr.AbnormalRefundKind.MERCHANT_BANK_CARD)
    http = wr.build_apply_abnormal_refund_request(config, req, c["timestamp"], c["nonce"])
    assert http.url == PRODUCTION + c["url"]
    assert http.body == c["body"].encode("utf-8")
    assert header(http, "Authorization") == c["authorization"]
    assert header(http, "Wechatpay-Serial") == "PUB_KEY_ID_0119000000012026112300000000000001"


def test_abnormal_refund_sensitive_fields_are_encrypted_for_the_wechatpay_key(config, keys):
    """bank_account / real_name leave the library RSA-OAEP(SHA-1) encrypted: decrypt them back
    with the WeChat Pay private key of the vectors (Python `cryptography`, independent)."""
    import base64
    import json

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    req = wr.AbnormalRefundRequest(
        refund_id="50000000382019052709732678859", out_refund_no="R1",
        kind=wr.AbnormalRefundKind.USER_BANK_CARD, bank_type="ICBC_DEBIT",
        bank_account="6222021234567890", real_name="张三")
    http = wr.build_apply_abnormal_refund_request(config, req, 1795000123, "N1")
    body = json.loads(http.body)
    assert "6222021234567890" not in http.body.decode() and "张三" not in http.body.decode()
    priv = serialization.load_pem_private_key(
        keys["wechatpay_public_key"]["private_key_pkcs8_pem"].encode(), password=None)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    assert priv.decrypt(base64.b64decode(body["bank_account"]), oaep) == b"6222021234567890"
    assert priv.decrypt(base64.b64decode(body["real_name"]), oaep).decode() == "张三"
    assert body["type"] == "USER_BANK_CARD" and body["bank_type"] == "ICBC_DEBIT"


def test_invalid_nonce_is_refused(config):
    req = wr.CreateRefundRequest(out_trade_no="T100000", out_refund_no="R1",
                                 amount=wr.RefundAmountInput(refund=1, total=1))
    with pytest.raises(wr.RefundError.InvalidInput) as ei:
        wr.build_create_refund_request(config, req, 1795000000, 'bad"nonce')
    assert ei.value.field == "nonce"


# ------------------------------------------------------------------ verification


def verification_headers(c):
    return [
        wr.HttpHeader(name="Wechatpay-Timestamp", value=str(c["timestamp"])),
        wr.HttpHeader(name="Wechatpay-Nonce", value=c["nonce"]),
        wr.HttpHeader(name="Wechatpay-Signature", value=c["signature"]),
        wr.HttpHeader(name="Wechatpay-Serial", value=c["serial"]),
        wr.HttpHeader(name="Wechatpay-Signature-Type", value=c["signature_type"]),
        wr.HttpHeader(name="Request-ID", value=c["request_id"]),
    ]


EXPECTED_ERROR = {
    "signature": wr.RefundError.Signature,
    "signature_type": wr.RefundError.Signature,
    "probe": wr.RefundError.ProbeSignature,
    "timestamp": wr.RefundError.TimestampOutOfWindow,
    "unknown_serial": wr.RefundError.UnknownSerial,
}


@pytest.mark.parametrize("c", VERIFICATION["cases"], ids=lambda c: c["name"])
def test_verification(vector_config, c):
    now = VERIFICATION["now"]
    headers = verification_headers(c)
    body = c["body"].encode("utf-8")
    if c["expect"] == "ok":
        assert wr.verify_wechatpay_signature(vector_config, headers, body, now) is None
        return
    with pytest.raises(EXPECTED_ERROR[c["expect"]]) as ei:
        wr.verify_wechatpay_signature(vector_config, headers, body, now)
    e = ei.value
    assert isinstance(e, wr.RefundError)
    if c["expect"] == "timestamp":
        assert e.timestamp == c["timestamp"] and e.now == now
    else:
        assert e.request_id == c["request_id"]
    if c["expect"] == "unknown_serial":
        assert e.serial == c["serial"]


@pytest.mark.parametrize("c", [c for c in VERIFICATION["cases"] if c["body"]], ids=lambda c: c["name"])
def test_parse_refund_response(vector_config, c):
    """The same cases as HTTP responses: only verified bodies are parsed."""
    now = VERIFICATION["now"]
    resp = wr.HttpResponse(status=200, headers=verification_headers(c), body=c["body"].encode("utf-8"))
    if c["expect"] != "ok":
        with pytest.raises(EXPECTED_ERROR[c["expect"]]):
            wr.parse_refund_response(vector_config, resp, now)
        return
    r = wr.parse_refund_response(vector_config, resp, now)
    assert r.status == wr.RefundStatus.PROCESSING
    assert (r.amount.refund, r.amount.total) == (100, 10000)
    assert r.channel == wr.RefundChannel.ORIGINAL
    assert r.funds_account == wr.FundsAccount.AVAILABLE
    assert len(r.promotion_detail) == 2
    assert r.promotion_detail[0].promotion_type == wr.PromotionType.CASH
    assert r.promotion_detail[0].goods_detail[0].goods_id == "1001"
    # "COUPON": WeChat Pay's own example in the apply-refund page value.
    assert r.promotion_detail[1].promotion_type == wr.PromotionType.COUPON
    assert r.promotion_detail[1].promotion_type.value == "COUPON"
    assert r.promotion_detail[1].coupon_id == "109520"
    assert r.raw_json == c["body"]


def test_verification_is_header_case_insensitive(vector_config):
    c = case(VERIFICATION, "ok_public_key")
    headers = [wr.HttpHeader(name=h.name.lower(), value=h.value) for h in verification_headers(c)]
    wr.verify_wechatpay_signature(vector_config, headers, c["body"].encode(), VERIFICATION["now"])


def test_missing_header_is_a_signature_error(vector_config):
    c = case(VERIFICATION, "ok_public_key")
    headers = [h for h in verification_headers(c) if h.name != "Wechatpay-Nonce"]
    with pytest.raises(wr.RefundError.Signature) as ei:
        wr.verify_wechatpay_signature(vector_config, headers, c["body"].encode(), VERIFICATION["now"])
    assert "Wechatpay-Nonce" in ei.value.reason


# ------------------------------------------------------------------ notifications


def assert_notification(n, c):
    e = c["expected"]
    assert n.id == e["id"]
    assert n.create_time == e["create_time"]
    assert n.event_type.name == e["event_type"].replace(".", "_")
    assert n.summary == e["summary"]
    assert n.mchid == e.get("mchid")
    assert n.sp_mchid == e.get("sp_mchid")
    assert n.sub_mchid == e.get("sub_mchid")
    assert n.out_trade_no == e["out_trade_no"]
    assert n.transaction_id == e["transaction_id"]
    assert n.out_refund_no == e["out_refund_no"]
    assert n.refund_id == e["refund_id"]
    assert n.refund_status.name == e["refund_status"]
    assert n.success_time == e.get("success_time")
    assert n.user_received_account == e["user_received_account"]
    assert (n.amount.total, n.amount.refund, n.amount.payer_total, n.amount.payer_refund) == (
        e["amount"]["total"], e["amount"]["refund"], e["amount"]["payer_total"], e["amount"]["payer_refund"])
    assert n.raw_json == c["plaintext"]


@pytest.mark.parametrize("c", NOTIFICATION["cases"], ids=lambda c: c["name"])
def test_notification(vector_config, c):
    now = NOTIFICATION["now"]
    body = c["body"].encode("utf-8")
    n = wr.parse_notification_at(vector_config, dict(c["headers"]), body, now)
    assert_notification(n, c)

    # WSGI / Django META style names work too.
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in c["headers"].items()}
    assert wr.parse_notification_at(vector_config, meta, body, now) == n

    # One changed byte of the raw body breaks the signature.
    with pytest.raises(wr.RefundError.Signature):
        wr.parse_notification_at(vector_config, dict(c["headers"]), body.replace(b"refund", b"refunD", 1), now)
    # So does re-serialising the JSON (the reason the raw body bytes must be passed on).
    import json
    reserialised = json.dumps(json.loads(body)).encode()
    assert reserialised != body
    with pytest.raises(wr.RefundError.Signature):
        wr.parse_notification_at(vector_config, dict(c["headers"]), reserialised, now)
    # Out of the +-300 s window: rejected although the signature is good.
    with pytest.raises(wr.RefundError.TimestampOutOfWindow):
        wr.parse_notification_at(vector_config, dict(c["headers"]), body, now + 301)
    # A probe signature is its own error.
    probe = dict(c["headers"], **{"Wechatpay-Signature": "WECHATPAY/SIGNTEST/abc"})
    with pytest.raises(wr.RefundError.ProbeSignature):
        wr.parse_notification_at(vector_config, probe, body, now)


def test_notification_with_the_wrong_api_v3_key_is_a_decryption_error(keys):
    """The signature verifies (right WeChat Pay key) but the resource cannot be decrypted."""
    c = NOTIFICATION["cases"][0]
    cfg = wr.ClientConfig(
        mchid=keys["mchid"], merchant_serial_no=keys["merchant"]["serial_no"],
        merchant_private_key_pem=keys["merchant"]["private_key_pkcs8_pem"],
        api_v3_key="x" * 32,
        wechatpay_public_key_id=keys["wechatpay_public_key"]["id"],
        wechatpay_public_key_pem=keys["wechatpay_public_key"]["public_key_pem"])
    with pytest.raises(wr.RefundError.Decryption) as ei:
        wr.parse_notification_at(cfg, dict(c["headers"]), c["body"].encode(), NOTIFICATION["now"])
    assert "tag" in ei.value.reason


def test_gcm_vectors_through_decrypt_resource():
    gcm = load_vector("gcm.json")
    for c in gcm["cases"]:
        assert wr.decrypt_resource(c["key"], "AEAD_AES_256_GCM", c["ciphertext"], c["nonce"],
                                   c["associated_data"]) == c["plaintext"]
