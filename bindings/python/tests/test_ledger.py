"""The refund ledger (issue 19) from Python: the issue's contract verbatim, the same scenario on
PostgreSQL (the server scripts/test starts), and the pytest plugin's ``wechatpay_ledger`` fixture.

Each runs with the accelerator on and, in the suite's second pass, on the generated code alone.
"""

import os
import threading

import pytest

import wechatpay_refund as wr

pytest_plugins = ["wechatpay_refund.testing"]


def test_the_issue_contract_verbatim(capsys):
    import os, tempfile
    import wechatpay_refund as wr

    sandbox = wr.Sandbox.start()
    client = wr.RefundClient(sandbox.client_config())
    db = os.path.join(tempfile.mkdtemp(), "refunds.db")
    ledger = wr.RefundLedger.open_sqlite(db, client)     # creates the file and its schema, or opens them

    sandbox.create_order("T20261202001", 10000)
    req = wr.CreateRefundRequest(out_trade_no="T20261202001", out_refund_no="R1",
                                 amount=wr.RefundAmountInput(refund=100, total=10000))
    e = ledger.submit(req)                 # the intent is durable before anything is sent
    assert e.out_refund_no == "R1" and e.status == wr.RefundStatus.PROCESSING and e.refund_id
    assert ledger.submit(req).refund_id == e.refund_id      # again: the same entry, no second refund
    assert sandbox.refund_count("T20261202001") == 1
    try:
        ledger.submit(wr.CreateRefundRequest(out_trade_no="T20261202001", out_refund_no="R1",
                                             amount=wr.RefundAmountInput(refund=200, total=10000)))
        raise AssertionError("an out_refund_no reused with another amount must be refused before sending")
    except wr.RefundError.InvalidInput:
        pass

    sandbox.set_refund_status("R1", wr.RefundStatus.SUCCESS)
    n = sandbox.notification("R1")
    ledger.handle_notification(n.headers, n.body)      # verified, then applied
    ledger.handle_notification(n.headers, n.body)      # WeChat Pay re-sends: nothing changes twice
    assert ledger.get("R1").status == wr.RefundStatus.SUCCESS

    sandbox.create_order("T20261202002", 500)
    ledger.submit(wr.CreateRefundRequest(out_trade_no="T20261202002", out_refund_no="R2",
                                         amount=wr.RefundAmountInput(refund=500, total=500)))
    sandbox.set_refund_status("R2", wr.RefundStatus.ABNORMAL)   # no notify_url: only a query can see it
    changed = ledger.poll(only_due=False)              # query every refund that is not final yet
    assert [c.out_refund_no for c in changed] == ["R2"] and changed[0].status == wr.RefundStatus.ABNORMAL
    assert [x.out_refund_no for x in ledger.needs_action()] == ["R2"]
    ledger.resolve_abnormal(wr.AbnormalRefundRequest(refund_id=ledger.get("R2").refund_id, out_refund_no="R2",
                                                     kind=wr.AbnormalRefundKind.MERCHANT_BANK_CARD))
    assert ledger.needs_action() == []
    sandbox.set_refund_status("R2", wr.RefundStatus.SUCCESS)
    ledger.poll(only_due=False)
    assert ledger.get("R2").status == wr.RefundStatus.SUCCESS

    evs = ledger.events(after=0)                       # ordered and durable: consume, remember the last seq
    assert [ev.seq for ev in evs] == sorted({ev.seq for ev in evs})
    assert [ev.status for ev in evs if ev.out_refund_no == "R1"] == [wr.RefundStatus.PROCESSING, wr.RefundStatus.SUCCESS]
    assert wr.RefundStatus.ABNORMAL in [ev.status for ev in evs if ev.out_refund_no == "R2"]
    assert ledger.events(after=evs[-1].seq) == []

    ledger.close()
    again = wr.RefundLedger.open_sqlite(db, client)    # another process, another day: the same book
    assert again.get("R1").status == wr.RefundStatus.SUCCESS and again.get("R404") is None
    assert again.resume() == []                        # nothing was left in flight
    print("ledger contract ok")
    assert capsys.readouterr().out.strip().endswith("ledger contract ok")


def _postgres_url(name):
    base = os.environ.get("WECHATPAY_REFUND_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("no PostgreSQL server: run through scripts/test-python, which starts one")
    import uuid
    db = "py_%s_%s" % (name, uuid.uuid4().hex[:12])
    # A database of its own on the test server (psql comes with the server's packages).
    import subprocess
    subprocess.run(["psql", base, "-q", "-c", "CREATE DATABASE %s" % db], check=True)
    return base.rsplit("/", 1)[0] + "/" + db


def test_the_same_lifecycle_on_postgres():
    url = _postgres_url("life")
    sb = wr.Sandbox.start()
    client = wr.RefundClient(sb.client_config())
    ledger = wr.RefundLedger.open_postgres(url, client)
    sb.create_order("TP1", 10000)
    req = wr.CreateRefundRequest(out_trade_no="TP1", out_refund_no="RP1",
                                 amount=wr.RefundAmountInput(refund=100, total=10000))
    e = ledger.submit(req)
    assert e.state == wr.LedgerState.OPEN and e.attempts == 1
    assert ledger.submit(req).refund_id == e.refund_id and sb.refund_count("TP1") == 1
    sb.set_refund_status("RP1", wr.RefundStatus.SUCCESS)
    n = sb.notification("RP1")
    # Four deliveries at once from four threads: one transition.
    threads = [threading.Thread(target=ledger.handle_notification, args=(n.headers, n.body)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    evs = ledger.events(after=0)
    assert [(ev.status, ev.source) for ev in evs] == [
        (wr.RefundStatus.PROCESSING, wr.LedgerEventSource.SUBMIT),
        (wr.RefundStatus.SUCCESS, wr.LedgerEventSource.NOTIFICATION)]
    assert [(c.state, c.count) for c in ledger.counts()] == [(wr.LedgerState.FINAL, 1)]
    ledger.close()
    with pytest.raises(wr.RefundError.Store):
        ledger.get("RP1")


def test_a_final_refusal_is_recorded_and_returned_again_without_sending(wechatpay_sandbox, wechatpay_ledger):
    wechatpay_sandbox.create_order("TX1", 100)
    over = wr.CreateRefundRequest(out_trade_no="TX1", out_refund_no="RX1",
                                  amount=wr.RefundAmountInput(refund=100, total=100))
    wechatpay_sandbox.inject_fault(wr.SandboxFault.REFUSAL(refusal=wr.SandboxRefusal.INVALID_REQUEST,
                                                           after_processing=False), 1)
    with pytest.raises(wr.RefundError.Api) as first:
        wechatpay_ledger.submit(over)
    sent = wechatpay_sandbox.request_count()
    with pytest.raises(wr.RefundError.Api) as again:
        wechatpay_ledger.submit(over)
    assert again.value.code == first.value.code == "INVALID_REQUEST"
    assert wechatpay_sandbox.request_count() == sent, "a final refusal is not sent again"
    e = wechatpay_ledger.get("RX1")
    assert e.state == wr.LedgerState.REJECTED and e.last_error_message


def test_options_and_bad_input(wechatpay_client, tmp_path):
    with pytest.raises(wr.RefundError.InvalidInput) as e:
        wr.RefundLedger.open_sqlite_with(str(tmp_path / "x.db"), wechatpay_client,
                                         wr.LedgerOptions(poll_batch=0))
    assert e.value.field == "poll_batch"
    ledger = wr.RefundLedger.open_sqlite_with(str(tmp_path / "y.db"), wechatpay_client,
                                              wr.LedgerOptions(poll_intervals_secs=[5, 10], synchronous_full=False))
    assert ledger.poll() == [] and ledger.resume() == [] and ledger.events(after=0, limit=10) == []
    with pytest.raises(wr.RefundError.Store) as e:
        wr.RefundLedger.open_postgres("postgresql://u:hunter2@127.0.0.1:1/x?connect_timeout=2", wechatpay_client)
    assert "hunter2" not in str(e.value) and "hunter2" not in repr(e.value)


def test_reconcile_the_days_bill_against_the_ledger(tmp_path):
    import datetime

    def china_date(unix):
        return datetime.datetime.fromtimestamp(
            unix, datetime.timezone(datetime.timedelta(hours=8))).strftime("%Y-%m-%d")

    sb = wr.Sandbox.start()
    client = wr.RefundClient(sb.client_config())
    ledger = wr.RefundLedger.open_sqlite(str(tmp_path / "refunds.db"), client)
    day = china_date(sb.clock())
    sb.create_order("TRC", 10000)
    for no, fen in (("RC1", 100), ("RC2", 200)):
        ledger.submit(wr.CreateRefundRequest(out_trade_no="TRC", out_refund_no=no,
                                             amount=wr.RefundAmountInput(refund=fen, total=10000)))
        sb.set_refund_status(no, wr.RefundStatus.SUCCESS)
    # A refund made outside the ledger (the merchant platform, another system).
    client.create_refund(wr.CreateRefundRequest(out_trade_no="TRC", out_refund_no="RC3",
                                                amount=wr.RefundAmountInput(refund=300, total=10000)))
    sb.set_refund_status("RC3", wr.RefundStatus.SUCCESS)
    assert sorted(e.out_refund_no for e in ledger.poll(only_due=False)) == ["RC1", "RC2"]
    if china_date(sb.clock()) != day:
        pytest.fail("midnight China time passed during the setup: run again")
    sb.advance_clock(86400)                          # the day's bill is ready the next day
    bill = client.download_bill(wr.TradeBillRequest(bill_date=day, bill_type=wr.BillType.ALL))
    report = ledger.reconcile(bill, day)
    assert sorted(m.out_refund_no for m in report.matched) == ["RC1", "RC2"]
    assert [(m.out_refund_no, m.refund_fen) for m in report.missing_in_ledger] == [("RC3", 300)]
    assert report.missing_in_bill == [] and report.amount_mismatches == [] and report.status_mismatches == []
    with pytest.raises(wr.RefundError.InvalidInput):
        ledger.reconcile(bill, "2026-13-01")
