#!/usr/bin/env python3
"""The refund lifecycle, end to end, against the embedded sandbox (no merchant account needed).

    apply -> query -> ABNORMAL -> apply abnormal refund -> SUCCESS -> notification parsed

Run it with the wheel installed:  python examples/python/quickstart.py
With real credentials, replace `sandbox.client_config()` by a `wr.ClientConfig(...)` of your
own (see bindings/python/README.md); everything else stays the same.
"""

import sys

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

        out_trade_no, out_refund_no = "T20261123001", "R20261123001"
        transaction_id = sandbox.create_order(out_trade_no, 10000)
        step(0, "a paid order %s (transaction %s) of %s" % (out_trade_no, transaction_id, yuan(10000)))

        refund = client.create_refund(wr.CreateRefundRequest(
            out_trade_no=out_trade_no,
            out_refund_no=out_refund_no,               # your id: retries with it never refund twice
            amount=wr.RefundAmountInput(refund=2550, total=10000),
            reason="商品已售完"))
        step(1, "applied for a refund of %s: %s is %s (accepted, not yet refunded)"
             % (yuan(refund.amount.refund), refund.out_refund_no, refund.status.name))

        refund = client.query_refund(out_refund_no, None)
        step(2, "queried: %s, refund_id %s, to %s" % (refund.status.name, refund.refund_id, refund.user_received_account))

        # WeChat Pay reports ABNORMAL when the original account cannot take the money back
        # (a cancelled or frozen card). The sandbox lets us play that part.
        sandbox.set_refund_status(out_refund_no, wr.RefundStatus.ABNORMAL)
        refund = client.query_refund(out_refund_no, None)
        step(3, "queried again: %s" % refund.status.name)
        assert refund.status == wr.RefundStatus.ABNORMAL

        refund = client.apply_abnormal_refund(wr.AbnormalRefundRequest(
            refund_id=refund.refund_id, out_refund_no=out_refund_no,
            kind=wr.AbnormalRefundKind.USER_BANK_CARD, bank_type="ICBC_DEBIT",
            bank_account="6222021234567890", real_name="张三"))   # encrypted by the library
        step(4, "applied an abnormal refund to a bank card: %s, to %s" % (refund.status.name, refund.user_received_account))

        sandbox.set_refund_status(out_refund_no, wr.RefundStatus.SUCCESS)
        refund = client.query_refund(out_refund_no, None)
        step(5, "queried: %s at %s, channel %s" % (refund.status.name, refund.success_time, refund.channel.name))

        # What WeChat Pay POSTs to your notify_url: pass the headers and the RAW body bytes.
        n = sandbox.notification(out_refund_no)
        note = client.parse_notification(n.headers, n.body)
        step(6, "notification %s verified and decrypted: %s %s, %s of %s refunded (%s)"
             % (note.id, note.event_type.name, note.out_refund_no, yuan(note.amount.refund),
                yuan(note.amount.total), note.summary))
        ack = wr.notification_ack_success()
        print("   answer WeChat Pay with HTTP %d" % ack.status)

        try:
            client.query_refund("R-DOES-NOT-EXIST", None)
        except wr.RefundError.Api as e:
            # For any failure of create_refund: if e.is_outcome_unknown(), the refund may exist
            # anyway -- query it, or send it again with the SAME out_refund_no, never a new one.
            print("\nan unknown refund: HTTP %d %s (Request-ID %s, retryable=%s, outcome unknown=%s)"
                  % (e.status, e.code, e.request_id, e.retryable, e.is_outcome_unknown()))

        ok = (refund.status == wr.RefundStatus.SUCCESS and note.refund_status == wr.RefundStatus.SUCCESS
              and note.out_refund_no == out_refund_no and note.amount.refund == 2550)
        print("\n" + ("OK: the refund lifecycle completed" if ok else "FAILED"))
        return 0 if ok else 1
    finally:
        sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
