//! Criterion benchmarks of the trade bill: parse throughput (MB/s of bill text, plain and
//! gzip) and the SHA1 digest the download computes as the bytes stream. The bill is a synthetic
//! `ALL` bill laid out as WeChat Pay's (27 columns, backticked fields, Chinese text), about
//! 10 MB of text.
//!
//! `cargo bench --bench bill`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::io::Write;
use wechatpay_refund::bill::{parse_bill, BillReader};

const COLUMNS: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";

/// A bill of `rows` rows, every other one a refund.
fn bill(rows: usize) -> Vec<u8> {
    let mut out = String::with_capacity(rows * 330);
    out.push_str(COLUMNS);
    out.push_str("\r\n");
    for i in 0..rows {
        let refund = i % 2 == 1;
        out.push_str(&format!(
            "`2026-11-23 10:{:02}:{:02},`wx8888888888888888,`1900000001,`0,`,`42000000012026112{i:010},`T2026112{i:010},`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`{},`OTHERS,`CNY,`{},`0.00,`{},`{},`{},`0.00,`{},`{},`测试商品-{i},`,`{},`0.60%,`{},`{},`\r\n",
            (i / 60) % 60,
            i % 60,
            if refund { "REFUND" } else { "SUCCESS" },
            if refund { "0.00" } else { "128.30" },
            if refund { format!("5030000001202611{i:010}") } else { "0".into() },
            if refund { format!("R2026112{i:010}") } else { "0".into() },
            if refund { "12.30" } else { "0.00" },
            if refund { "ORIGINAL" } else { "" },
            if refund { "SUCCESS" } else { "" },
            if refund { "-0.07380" } else { "0.76980" },
            if refund { "0.00" } else { "128.30" },
            if refund { "12.30" } else { "0.00" },
        ));
    }
    out.push_str("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n");
    out.push_str(&format!(
        "`{rows},`0.00,`0.00,`0.00,`0.00000,`0.00,`0.00\r\n"
    ));
    out.into_bytes()
}

fn benches(c: &mut Criterion) {
    let text = bill(32_000);
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&text).unwrap();
        e.finish().unwrap()
    };
    let mut g = c.benchmark_group("bill");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("parse_streaming_plain", |b| {
        b.iter(|| {
            let mut r = BillReader::new(black_box(text.as_slice())).unwrap();
            let mut n = 0usize;
            while let Some(row) = r.next_row().unwrap() {
                n += row.refund_fen.unwrap_or(0) as usize;
            }
            black_box(n)
        })
    });
    g.bench_function("parse_in_memory_gzip", |b| {
        b.iter(|| black_box(parse_bill(black_box(&gz)).unwrap().rows.len()))
    });
    g.bench_function("sha1_digest", |b| {
        b.iter(|| {
            let mut h = wechatpay_refund::crypto::Sha1::new();
            for chunk in text.chunks(64 * 1024) {
                h.update(chunk);
            }
            black_box(h.finish_hex())
        })
    });
    g.finish();
}

criterion_group! {
    name = bill_benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(bill_benches);
