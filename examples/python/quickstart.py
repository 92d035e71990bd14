#!/usr/bin/env python3
"""The refund lifecycle, end to end, against the embedded sandbox (no merchant account needed).

    ledger.submit -> query -> ABNORMAL (poll) -> resolve_abnormal -> SUCCESS (notification)
    -> the event log

Every refund goes through the refund ledger (a SQLite file here; open_postgres for several
hosts): recorded before it is sent, followed to a final state, each change in its event log.

Run it with the wheel installed:  python examples/python/quickstart.py
With real credentials, replace `sandbox.client_config()` by a `wr.ClientConfig(...)` of your
own (see bindings/python/README.md); everything else stays the same.
"""

import os
import sys
import tempfile

import wechatpay_refund as wr


def yuan(fen: int) -> str:
    return "¥%d.%02d" % divmod(fen, 100)


def step(n: int, text: str) -> None:
    print("%d. %s" % (n, text))


def main() -> int:
    sandbox = wr.Sandbox.start()
    try:
        print("sandbox listening on %s (test keys, mchid %s)\n" % (sandbox.base_url(), sandbox.credentials().mchid))
        client = wr.RefundClient(sandbox.client_config())
        ledger = wr.RefundLedger.open_sqlite(os.path.join(tempfile.mkdtemp(), "refunds.db"), client)

        out_trade_no, out_refund_no = "T20261123001", "R20261123001"
        transaction_id = sandbox.create_order(out_trade_no, 10000)
        step(0, "a paid order %s (transaction %s) of %s" % (out_trade_no, transaction_id, yuan(10000)))

        request = wr.CreateRefundRequest(
            out_trade_no=out_trade_no,
            out_refund_no=out_refund_no,               # your id: retries with it never refund twice
            amount=wr.RefundAmountInput(refund=2550, total=10000),
            reason="商品已售完")
        entry = ledger.submit(request)                 # recorded first, then sent
        step(1, "submitted a refund of %s: %s is %s, ledger state %s (accepted, not yet refunded)"
             % (yuan(entry.refund), entry.out_refund_no, entry.status.name if entry.status else "-",
                entry.state.name))
        again = ledger.submit(request)                 # a retry, a double click: nothing is sent
        assert again.refund_id == entry.refund_id and sandbox.refund_count(out_trade_no) == 1

        refund = client.query_refund(out_refund_no, None)
        step(2, "queried: %s, refund_id %s, to %s" % (refund.status.name, refund.refund_id, refund.user_received_account))

        # WeChat Pay reports ABNORMAL when the original account cannot take the money back
        # (a cancelled or frozen card). The sandbox lets us play that part.
        sandbox.set_refund_status(out_refund_no, wr.RefundStatus.ABNORMAL)
        changed = ledger.poll(only_due=False)          # a worker calls ledger.poll() every minute
        step(3, "polled: %s" % ", ".join("%s is %s" % (c.out_refund_no, c.status.name if c.status else "-")
                                         for c in changed))
        waiting = ledger.needs_action()                # ABNORMAL: collect a new card
        assert [w.out_refund_no for w in waiting] == [out_refund_no]

        resolved = ledger.resolve_abnormal(wr.AbnormalRefundRequest(
            refund_id=waiting[0].refund_id or "", out_refund_no=out_refund_no,
            kind=wr.AbnormalRefundKind.USER_BANK_CARD, bank_type="ICBC_DEBIT",
            bank_account="6222021234567890", real_name="张三"))   # encrypted; the ledger keeps the kind only
        step(4, "resolved the abnormal refund to a bank card: %s (%s)"
             % (resolved.status.name if resolved.status else "-", resolved.abnormal_kind))

        sandbox.set_refund_status(out_refund_no, wr.RefundStatus.SUCCESS)
        refund = client.query_refund(out_refund_no, None)
        step(5, "queried: %s at %s, channel %s" % (refund.status.name, refund.success_time, refund.channel.name))

        # What WeChat Pay POSTs to your notify_url: pass the headers and the RAW body bytes.
        n = sandbox.notification(out_refund_no)
        note = client.parse_notification(n.headers, n.body)
        step(6, "notification %s verified and decrypted: %s %s, %s of %s refunded (%s)"
             % (note.id, note.event_type.name, note.out_refund_no, yuan(note.amount.refund),
                yuan(note.amount.total), note.summary))
        recorded = ledger.handle_notification(n.headers, n.body)   # verified again, then applied once
        ack = wr.notification_ack_success()
        print("   recorded: %s; answer WeChat Pay with HTTP %d" % (recorded.status.name if recorded.status else "-", ack.status))

        # Your order system consumes the event log: each change once, in order.
        for ev in ledger.events(after=0):
            print("   event %d: %s %s (%s)" % (ev.seq, ev.out_refund_no, ev.status.name, ev.source.name))

        try:
            client.query_refund("R-DOES-NOT-EXIST", None)
        except wr.RefundError.Api as e:
            # For any failure of create_refund: if e.is_outcome_unknown(), the refund may exist
            # anyway -- query it, or send it again with the SAME out_refund_no, never a new one.
            print("\nan unknown refund: HTTP %d %s (Request-ID %s, retryable=%s, outcome unknown=%s)"
                  % (e.status, e.code, e.request_id, e.retryable, e.is_outcome_unknown()))

        final = ledger.get(out_refund_no)
        ok = (refund.status == wr.RefundStatus.SUCCESS and note.refund_status == wr.RefundStatus.SUCCESS
              and note.out_refund_no == out_refund_no and note.amount.refund == 2550
              and final is not None and final.status == wr.RefundStatus.SUCCESS and ledger.resume() == [])
        ledger.close()
        print("\n" + ("OK: the refund lifecycle completed" if ok else "FAILED"))
        return 0 if ok else 1
    finally:
        sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
