"""The daily trade bill from Python: download (streamed, SHA1 checked), parse, GZIP, a corrupted
file refused, WeChat Pay's "no bill" answers, and the sans-IO path for one's own HTTP client."""

import datetime
import gzip
import hashlib
import time
import urllib.request

import pytest

import wechatpay_refund as wr
from conftest import unique


def china_date(unix):
    return datetime.datetime.fromtimestamp(unix, datetime.timezone(datetime.timedelta(hours=8))).strftime("%Y-%m-%d")


@pytest.fixture()
def yesterday():
    """A sandbox with one order and two refunds made on the day returned, its clock a day on."""
    sb = wr.Sandbox.start()
    client = wr.RefundClient(sb.client_config())
    day = china_date(sb.clock())
    order = unique("T")
    sb.create_order(order, 10000)
    nos = [unique("R"), unique("R")]
    for no, amount in zip(nos, [2999, 29]):
        client.create_refund(wr.CreateRefundRequest(out_trade_no=order, out_refund_no=no,
                                                    amount=wr.RefundAmountInput(refund=amount, total=10000)))
    sb.set_refund_status(nos[0], wr.RefundStatus.SUCCESS)
    if china_date(sb.clock()) != day:
        pytest.skip("midnight China time passed during the setup")
    sb.advance_clock(86400)
    try:
        yield sb, client, day, nos
    finally:
        sb.stop()


def test_download_and_parse_with_exact_fen(yesterday):
    sb, client, day, nos = yesterday
    bill = client.download_bill(wr.TradeBillRequest(bill_date=day, bill_type=wr.BillType.ALL))
    refunds = {r.out_refund_no: r for r in bill.rows if r.trade_state == "REFUND"}
    assert set(refunds) == set(nos)
    assert refunds[nos[0]].refund_fen == 2999 and refunds[nos[0]].refund_status == wr.RefundStatus.SUCCESS
    assert refunds[nos[1]].refund_fen == 29 and refunds[nos[1]].refund_status == wr.RefundStatus.PROCESSING
    assert bill.summary.refund_total_fen == 3028 and bill.summary.total_count == 3
    assert "交易时间" in bill.columns


def test_gzip_file_is_saved_as_downloaded_and_checked(yesterday, tmp_path):
    sb, client, day, nos = yesterday
    path = str(tmp_path / "bill.csv.gz")
    f = client.download_bill_to(wr.TradeBillRequest(bill_date=day, bill_type=wr.BillType.REFUND, gzip=True), path)
    data = open(path, "rb").read()
    assert f.gzip and data[:2] == b"\x1f\x8b" and f.bytes == len(data)
    assert hashlib.sha1(data).hexdigest() == f.sha1
    assert gzip.decompress(data).decode().startswith("交易时间,")


def test_a_corrupted_bill_is_refused_and_nothing_is_saved(yesterday, tmp_path):
    sb, client, day, nos = yesterday
    sb.corrupt_next_bills(1)
    path = tmp_path / "bill.csv"
    with pytest.raises(wr.RefundError.Signature) as ei:
        client.download_bill_to(wr.TradeBillRequest(bill_date=day, bill_type=wr.BillType.ALL), str(path))
    assert "bill digest mismatch" in str(ei.value)
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_no_bill_yet_and_no_bill_are_api_errors_with_their_codes():
    sb = wr.Sandbox.start()
    try:
        client = wr.RefundClient(sb.client_config())
        with pytest.raises(wr.RefundError.Api) as ei:
            client.trade_bill(wr.TradeBillRequest(bill_date=china_date(sb.clock()), bill_type=wr.BillType.ALL))
        assert ei.value.code == "STATEMENT_CREATING"
        with pytest.raises(wr.RefundError.Api) as ei:
            client.trade_bill(wr.TradeBillRequest(bill_date=china_date(sb.clock() - 2 * 86400),
                                                  bill_type=wr.BillType.ALL))
        assert ei.value.code == "NO_STATEMENT_EXIST"
        with pytest.raises(wr.RefundError.InvalidInput):
            client.trade_bill(wr.TradeBillRequest(bill_date="2026-02-30", bill_type=wr.BillType.ALL))
    finally:
        sb.stop()


def test_sans_io_with_urllib(yesterday):
    sb, client, day, nos = yesterday
    config = sb.client_config()

    def send(req):
        r = urllib.request.Request(req.url, method=req.method, headers={h.name: h.value for h in req.headers})
        with urllib.request.urlopen(r) as resp:
            return wr.HttpResponse(status=resp.status, headers=[wr.HttpHeader(name=k, value=v)
                                                                for k, v in resp.getheaders()], body=resp.read())

    nonce = "0123456789ABCDEF0123456789ABCDEF"
    req = wr.build_trade_bill_request(config, wr.TradeBillRequest(bill_date=day, bill_type=wr.BillType.ALL,
                                                                  gzip=True), int(time.time()), nonce)
    info = wr.parse_trade_bill_response(config, send(req), int(time.time()))
    file_req = wr.build_bill_file_request(config, info.download_url, int(time.time()), nonce[::-1])
    body = send(file_req).body
    bill = wr.parse_bill_file(body, info.hash_value)
    assert len(bill.rows) == 3
    with pytest.raises(wr.RefundError.Signature):
        wr.parse_bill_file(body[:-1] + bytes([body[-1] ^ 1]), info.hash_value)
