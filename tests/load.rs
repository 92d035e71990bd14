//! Load on the sandbox: 8 concurrent clients for a bounded number of requests, no errors, and
//! no thread or socket left behind after `stop()`. One test per binary, so the counts of this
//! process's threads and file descriptors are not disturbed by other tests.
#![cfg(all(feature = "sandbox", target_os = "linux"))]

use wechatpay_refund::sandbox::Sandbox;
use wechatpay_refund::*;

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Wait (bounded) for a count to come back to its baseline; returns the last value.
/// tiny_http's worker pool lets its idle threads go up to 5 s after the server is dropped.
fn settle(f: fn() -> usize, baseline: usize) -> usize {
    for _ in 0..800 {
        let n = f();
        if n <= baseline {
            return n;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    f()
}

#[test]
fn eight_concurrent_clients_then_nothing_leaks() {
    const CLIENTS: usize = 8;
    const PER_CLIENT: usize = 40;
    let (threads_before, fds_before) = (threads(), fds());
    {
        let sandbox = Sandbox::start().unwrap();
        for c in 0..CLIENTS {
            sandbox
                .create_order(format!("LOAD{c:04}"), 1_000_000)
                .unwrap();
        }
        let workers: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let client = RefundClient::new(sandbox.client_config().unwrap()).unwrap();
                std::thread::spawn(move || {
                    for i in 0..PER_CLIENT {
                        let no = format!("LOAD{c}-{i}");
                        let r = client
                            .create_refund(CreateRefundRequest::by_out_trade_no(
                                format!("LOAD{c:04}"),
                                no.clone(),
                                10,
                                1_000_000,
                            ))
                            .unwrap();
                        assert_eq!(r.out_refund_no, no);
                        assert_eq!(
                            client.query_refund(no, None).unwrap().refund_id,
                            r.refund_id
                        );
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("a client thread panicked");
        }
        for c in 0..CLIENTS {
            assert_eq!(
                sandbox.refund_count(format!("LOAD{c:04}")),
                PER_CLIENT as u32
            );
        }
        assert_eq!(sandbox.request_count() as usize, CLIENTS * PER_CLIENT * 2);
        assert!(sandbox.requests().iter().all(|r| r.status == 200));
        let port: u16 = sandbox
            .base_url()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        sandbox.stop();
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "the port is closed"
        );
    }
    let (t, f) = (settle(threads, threads_before), settle(fds, fds_before));
    assert!(
        t <= threads_before,
        "threads: {threads_before} before, {t} after stop"
    );
    assert!(
        f <= fds_before,
        "file descriptors: {fds_before} before, {f} after stop"
    );
}
