//! The sandbox ships in every wheel and jar, so it is bounded (issue 10.11): a client that
//! trickles a request cannot hold a connection thread forever, and connections are capped;
//! both are refused with 503.
#![cfg(feature = "sandbox")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use wechatpay_refund::sandbox::Sandbox;

fn addr(sb: &Sandbox) -> String {
    sb.base_url().trim_start_matches("http://").to_string()
}

fn read_all(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn a_trickled_request_is_cut_off_with_503() {
    let sb = Sandbox::start().unwrap();
    let mut s = TcpStream::connect(addr(&sb)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    s.write_all(b"GET /v3/refund/domestic/refunds/R1 HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // One header byte every 300 ms: each read resets no timer any more. Bounded at 30 s.
    let started = Instant::now();
    let mut answer = Vec::new();
    while started.elapsed() < Duration::from_secs(30) {
        if s.write_all(b"X").is_err() {
            break;
        }
        let mut chunk = [0u8; 512];
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&chunk[..n]);
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    sb.stop();
}

#[test]
fn connections_beyond_the_cap_get_503() {
    let sb = Sandbox::start().unwrap();
    // 256 idle connections occupy every slot (each served by a sandbox thread)...
    let held: Vec<TcpStream> = (0..256)
        .map(|_| TcpStream::connect(addr(&sb)).unwrap())
        .collect();
    // ...give the accept thread time to take them all (bounded wait for the refusal).
    let mut refused = String::new();
    for _ in 0..50 {
        let mut extra = TcpStream::connect(addr(&sb)).unwrap();
        extra
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        refused = read_all(&mut extra);
        if refused.starts_with("HTTP/1.1 503") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused:?}");
    // Freed slots are served again.
    drop(held);
    let mut ok = String::new();
    for _ in 0..100 {
        let mut s = TcpStream::connect(addr(&sb)).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        s.write_all(
            b"GET /v3/refund/domestic/refunds/R1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        ok = read_all(&mut s);
        if !ok.starts_with("HTTP/1.1 503") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(ok.starts_with("HTTP/1.1 4"), "{ok:?}");
    sb.stop();
}
