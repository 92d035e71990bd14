"""Which WeChat Pay certificates the library trusts (issue 26), against a fake WeChat Pay behind
an HttpTransport: a server that knows the API v3 key, lists the certificates it is told to
(encrypted as WeChat Pay encrypts them) and signs its answers with the key it is told to.

- a certificate WeChat Pay stops listing stops being trusted at the next download;
- downloaded certificates must be issued by the trust anchor (here a test CA made below);
- a hostile certificate is a typed error, never a PanicException;
- a failed download does not wedge later calls, and a notification never waits for a download.
"""

import base64
import datetime
import json
import os
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

import wechatpay_refund as wr
from conftest import load_vector

KEYS = load_vector("keys.json")
REFUND_BODY = load_vector("verification.json")["cases"][0]["body"]


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject_cn, key, issuer_cn, issuer_key, ca=False, days=(-1, 365)):
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder()
         .subject_name(_name(subject_cn)).issuer_name(_name(issuer_cn))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now + datetime.timedelta(days=days[0]))
         .not_valid_after(now + datetime.timedelta(days=days[1])))
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    return b.sign(issuer_key, hashes.SHA256())


class Platform:
    """A platform certificate (TEST) and its key."""

    def __init__(self, issuer_cn, issuer_key, self_signed=False, days=(-1, 365)):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cn = "platform (TEST) %s" % os.urandom(4).hex()
        if self_signed:
            issuer_cn, issuer_key = cn, self.key
        self.cert = _cert(cn, self.key, issuer_cn, issuer_key, days=days)
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM).decode()
        self.serial = format(self.cert.serial_number, "X")


CA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CA_CN = "wechatpay-refund test platform CA (TEST)"
CA_PEM = _cert(CA_CN, CA_KEY, CA_CN, CA_KEY, ca=True).public_bytes(serialization.Encoding.PEM).decode()


class FakeWechatPay(wr.HttpTransport):
    """Answers /v3/certificates with `listed`, every other call with a refund; signs with
    `signer`. `on_download` runs first on each download (to fail, or to be slow)."""

    def __init__(self, listed, signer):
        self.listed, self.signer = listed, signer
        self.downloads = 0
        self.on_download = None
        self._lock = threading.Lock()

    def signed(self, body, signer=None, serial=None):
        signer = signer or self.signer
        ts, nonce = str(int(time.time())), os.urandom(16).hex()
        sig = signer.key.sign(("%s\n%s\n%s\n" % (ts, nonce, body)).encode(), padding.PKCS1v15(), hashes.SHA256())
        return {"Wechatpay-Timestamp": ts, "Wechatpay-Nonce": nonce,
                "Wechatpay-Signature": base64.b64encode(sig).decode(),
                "Wechatpay-Serial": serial or signer.serial, "Request-ID": "FAKE-" + nonce[:8]}

    def listing(self):
        aes = AESGCM(KEYS["api_v3_key"].encode())
        data = []
        for p in self.listed:
            nonce = os.urandom(6).hex()
            ct = aes.encrypt(nonce.encode(), p.pem.encode(), b"certificate")
            data.append({"serial_no": p.serial, "effective_time": "2026-01-01T00:00:00+08:00",
                         "expire_time": "2031-01-01T00:00:00+08:00",
                         "encrypt_certificate": {"algorithm": "AEAD_AES_256_GCM", "nonce": nonce,
                                                 "associated_data": "certificate",
                                                 "ciphertext": base64.b64encode(ct).decode()}})
        return json.dumps({"data": data})

    def send(self, request):
        if "/v3/certificates" in request.url:
            with self._lock:
                self.downloads += 1
            if self.on_download:
                self.on_download()
            body = self.listing()
        else:
            body = REFUND_BODY
        headers = [wr.HttpHeader(name=k, value=v) for k, v in self.signed(body).items()]
        return wr.HttpResponse(status=200, headers=headers, body=body.encode())

    def notification(self, signer):
        """A refund notification for the test merchant, signed by `signer`."""
        plain = json.dumps({"mchid": KEYS["mchid"], "out_trade_no": "T1", "transaction_id": "4200000000000001",
                            "out_refund_no": "R1", "refund_id": "50000000000000000001", "refund_status": "SUCCESS",
                            "success_time": "2026-12-02T10:00:00+08:00", "user_received_account": "支付用户零钱",
                            "amount": {"total": 100, "refund": 1, "payer_total": 100, "payer_refund": 1}},
                           ensure_ascii=False, separators=(",", ":"))
        nonce = os.urandom(6).hex()
        ct = AESGCM(KEYS["api_v3_key"].encode()).encrypt(nonce.encode(), plain.encode(), b"refund")
        body = json.dumps({"id": os.urandom(8).hex(), "create_time": "2026-12-02T10:00:01+08:00",
                           "resource_type": "encrypt-resource", "event_type": "REFUND.SUCCESS", "summary": "退款成功",
                           "resource": {"original_type": "refund", "algorithm": "AEAD_AES_256_GCM",
                                        "ciphertext": base64.b64encode(ct).decode(), "associated_data": "refund",
                                        "nonce": nonce}}, ensure_ascii=False, separators=(",", ":"))
        return self.signed(body, signer), body.encode()


def client_for(fake, anchors=(CA_PEM,), **kwargs):
    config = wr.ClientConfig(mchid=KEYS["mchid"], merchant_serial_no=KEYS["merchant"]["serial_no"],
                             merchant_private_key_pem=KEYS["merchant"]["private_key_pkcs8_pem"],
                             api_v3_key=KEYS["api_v3_key"], download_platform_certificates=True,
                             options=wr.ClientOptions(platform_trust_anchors_pem=list(anchors), max_attempts=1,
                                                      **kwargs))
    return config, wr.RefundClient.with_transport(config, fake)


def test_a_certificate_no_longer_listed_stops_being_trusted():
    old, new = Platform(CA_CN, CA_KEY), Platform(CA_CN, CA_KEY)
    fake = FakeWechatPay([old], old)
    config, client = client_for(fake)
    client.query_refund("R1")                                  # first use: downloads [old]
    assert [c.serial_no.lstrip("0") for c in config.platform_certificates()] == [old.serial]
    headers, body = fake.notification(old)
    assert client.parse_notification(headers, body).out_refund_no == "R1"
    # WeChat Pay rotates: it lists only the new certificate and signs with it. The answer names
    # a serial the client does not know: one download, which REPLACES the downloaded set.
    fake.listed, fake.signer = [new], new
    client.query_refund("R1")
    assert [c.serial_no.lstrip("0") for c in config.platform_certificates()] == [new.serial]
    # The holder of the retired key can no longer forge a notification.
    headers, body = fake.notification(old)
    with pytest.raises(wr.RefundError.UnknownSerial):
        client.parse_notification(headers, body)
    headers, body = fake.notification(new)
    assert client.parse_notification(headers, body).refund_status == wr.RefundStatus.SUCCESS


def test_a_downloaded_certificate_must_be_issued_by_the_trust_anchor():
    rogue = Platform(None, None, self_signed=True)              # knows the API v3 key, not the CA
    fake = FakeWechatPay([rogue], rogue)
    config, client = client_for(fake)
    with pytest.raises(wr.RefundError.Certificate) as ei:
        client.query_refund("R1")
    assert "certificate authority" in ei.value.reason
    assert config.platform_certificates() == []
    # By default the anchor is WeChat Pay's own CA: a certificate of the test CA is refused too.
    good = Platform(CA_CN, CA_KEY)
    _, default_client = client_for(FakeWechatPay([good], good), anchors=())
    with pytest.raises(wr.RefundError.Certificate):
        default_client.query_refund("R1")


def test_one_listed_certificate_outside_its_validity_does_not_reject_the_others():
    expired = Platform(CA_CN, CA_KEY, days=(-400, -30))
    current = Platform(CA_CN, CA_KEY)
    fake = FakeWechatPay([expired, current], current)
    config, client = client_for(fake)
    client.query_refund("R1")
    assert [c.serial_no.lstrip("0") for c in config.platform_certificates()] == [current.serial]


def test_a_configured_certificate_must_chain_and_a_hostile_one_is_a_config_error():
    good = Platform(CA_CN, CA_KEY)
    base = dict(mchid=KEYS["mchid"], merchant_serial_no=KEYS["merchant"]["serial_no"],
                merchant_private_key_pem=KEYS["merchant"]["private_key_pkcs8_pem"], api_v3_key=KEYS["api_v3_key"])
    anchored = wr.ClientOptions(platform_trust_anchors_pem=[CA_PEM])
    cfg = wr.ClientConfig(**base, platform_certificates_pem=[good.pem], options=anchored)
    assert len(cfg.platform_certificates()) == 1
    with pytest.raises(wr.RefundError.Config) as ei:
        wr.ClientConfig(**base, platform_certificates_pem=[good.pem])   # not issued by WeChat Pay's CA
    assert good.serial in ei.value.reason.upper()
    # A certificate whose validity holds non-ASCII bytes (it once panicked on a char boundary).
    der = bytearray(good.cert.public_bytes(serialization.Encoding.DER))
    utc = der.find(b"\x30\x1e\x17\x0d") + 2                  # Validity: two UTCTimes
    assert utc > 2
    der[utc + 3:utc + 5] = "é".encode()
    pem = "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % base64.b64encode(bytes(der)).decode()
    with pytest.raises(wr.RefundError.Config) as ei:
        wr.ClientConfig(**base, platform_certificates_pem=[pem], options=anchored)
    assert "time" in ei.value.reason


def test_a_failed_download_does_not_wedge_later_calls():
    p = Platform(CA_CN, CA_KEY)
    fake = FakeWechatPay([p], p)

    def broken():
        raise ValueError("the download broke in an unforeseen way")

    fake.on_download = broken
    _, client = client_for(fake)
    with pytest.raises(wr.RefundError):
        client.query_refund("R1")
    started = time.monotonic()
    with pytest.raises(wr.RefundError.Certificate):             # refused at once: within 5 s of a failure
        client.query_refund("R1")
    assert time.monotonic() - started < 3, "a later call waited for a download that had ended"


def test_a_notification_never_waits_for_a_download_in_flight():
    p = Platform(CA_CN, CA_KEY)
    fake = FakeWechatPay([p], p)
    entered = threading.Event()

    def slow():
        entered.set()
        time.sleep(3)

    fake.on_download = slow
    _, client = client_for(fake)
    first = threading.Thread(target=client.query_refund, args=("R1",))
    first.start()
    try:
        assert entered.wait(10)
        headers, body = fake.notification(p)
        started = time.monotonic()
        with pytest.raises(wr.RefundError):                    # WeChat Pay delivers it again later
            client.parse_notification(headers, body)
        assert time.monotonic() - started < 1.5, "a notification waited for the download"
    finally:
        first.join(30)
    headers, body = fake.notification(p)
    assert client.parse_notification(headers, body).out_refund_no == "R1"
