//! HTTP(S) forward proxies (issue 21.8): v3 and v2 calls through a real forward proxy on
//! loopback (CONNECT tunnels and absolute-form requests, optional Basic credentials), the
//! credentials never printed, a bad proxy URL refused at build time.
#![cfg(feature = "sandbox")]
#![allow(clippy::result_large_err)]

mod common;

use base64::Engine;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;
use wechatpay_refund::sandbox::Sandbox;
use wechatpay_refund::v2::{V2Config, V2RefundClient, V2RefundRequest};
use wechatpay_refund::*;

/// A forward proxy on 127.0.0.1: `CONNECT host:port` tunnels, `GET http://host/...` is
/// forwarded in origin form. With `credentials`, a request without the matching
/// `Proxy-Authorization: Basic …` gets 407. Records each target it connected to.
struct ForwardProxy {
    port: u16,
    targets: Arc<Mutex<Vec<String>>>,
    refused: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl ForwardProxy {
    fn start(credentials: Option<&str>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let targets = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let expected = credentials.map(|c| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(c)
            )
        });
        let (t, r, s) = (targets.clone(), refused.clone(), stop.clone());
        thread::spawn(move || {
            // Bounded: stops with the test (and after 2 minutes at most).
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            while !s.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (t, r, expected) = (t.clone(), r.clone(), expected.clone());
                        thread::spawn(move || {
                            let _ = serve(conn, &t, &r, expected.as_deref());
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self {
            port,
            targets,
            refused,
            stop,
        }
    }

    fn url(&self, userinfo: Option<&str>) -> String {
        match userinfo {
            Some(u) => format!("http://{u}@127.0.0.1:{}", self.port),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }

    fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

impl Drop for ForwardProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(
    conn: TcpStream,
    targets: &Mutex<Vec<String>>,
    refused: &AtomicUsize,
    expected: Option<&str>,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let end = line == "\r\n";
        head.push(line);
        if end {
            break;
        }
    }
    let request_line = head[0].trim_end().to_string();
    let authorized = expected.is_none_or(|want| {
        head.iter().any(|h| {
            h.split_once(':').is_some_and(|(k, v)| {
                k.eq_ignore_ascii_case("proxy-authorization") && v.trim() == want
            })
        })
    });
    let mut client = conn;
    if !authorized {
        refused.fetch_add(1, Ordering::SeqCst);
        client.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        return Ok(());
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut upstream;
    if method == "CONNECT" {
        upstream = TcpStream::connect(target)?;
        targets.lock().unwrap().push(target.to_string());
        client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")?;
    } else {
        // Absolute form: http://host:port/path -> origin form to host:port.
        let rest = target.strip_prefix("http://").unwrap_or(target);
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        upstream = TcpStream::connect(authority)?;
        targets.lock().unwrap().push(authority.to_string());
        let version = parts.next().unwrap_or("HTTP/1.1");
        let mut out = format!(
            "{method} {} {version}\r\n",
            if path.is_empty() { "/" } else { path }
        );
        for h in &head[1..] {
            if !h.to_ascii_lowercase().starts_with("proxy-") {
                out.push_str(h);
            }
        }
        upstream.write_all(out.as_bytes())?;
    }
    // Anything the reader buffered beyond the head belongs upstream.
    let buffered = reader.buffer().to_vec();
    upstream.write_all(&buffered)?;
    let (mut up_read, mut client_write) = (upstream.try_clone()?, client.try_clone()?);
    let downstream = thread::spawn(move || {
        let _ = std::io::copy(&mut up_read, &mut client_write);
        let _ = client_write.shutdown(Shutdown::Write);
    });
    let mut client_read = reader.into_inner();
    let _ = std::io::copy(&mut client_read, &mut upstream);
    let _ = upstream.shutdown(Shutdown::Write);
    let _ = downstream.join();
    let _ = client_read.read(&mut [0u8; 1]);
    Ok(())
}

fn options(proxy: String) -> ClientOptions {
    ClientOptions {
        proxy: Some(proxy),
        max_attempts: 1,
        ..Default::default()
    }
}

fn client_through(sb: &Sandbox, proxy: String) -> Arc<RefundClient> {
    let config = common::sandbox_builder(sb)
        .options(options(proxy))
        .build()
        .unwrap();
    RefundClient::new(Arc::new(config)).unwrap()
}

#[test]
fn v3_calls_go_through_the_proxy() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T-PROXY-1".into(), 1_000).unwrap();
    let proxy = ForwardProxy::start(None);
    let client = client_through(&sb, proxy.url(None));
    let r = client
        .create_refund(CreateRefundRequest::by_out_trade_no(
            "T-PROXY-1",
            "R-PROXY-1",
            10,
            1_000,
        ))
        .unwrap();
    client.query_refund(r.out_refund_no, None).unwrap();
    let sandbox_port = sb
        .credentials()
        .base_url
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let seen = proxy.targets();
    assert!(!seen.is_empty(), "nothing went through the proxy");
    assert!(
        seen.iter()
            .all(|t| t.ends_with(&format!(":{sandbox_port}"))),
        "{seen:?}"
    );
}

#[test]
fn proxy_credentials_are_sent_and_never_printed() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T-PROXY-2".into(), 1_000).unwrap();
    let proxy = ForwardProxy::start(Some("refunds:s3cret-pw"));
    let client = client_through(&sb, proxy.url(Some("refunds:s3cret-pw")));
    client
        .create_refund(CreateRefundRequest::by_out_trade_no(
            "T-PROXY-2",
            "R-PROXY-2",
            10,
            1_000,
        ))
        .unwrap();
    assert_eq!(proxy.refused.load(Ordering::SeqCst), 0);
    let shown = format!("{:?}", options(proxy.url(Some("refunds:s3cret-pw"))));
    assert!(
        !shown.contains("s3cret-pw") && shown.contains("<redacted>@127.0.0.1"),
        "{shown}"
    );
    // Wrong credentials: the proxy refuses, the call fails as a transport error that does
    // not print them either.
    let bad = client_through(&sb, proxy.url(Some("refunds:wrong-pw")));
    let e = bad.query_refund("R-PROXY-2".into(), None).unwrap_err();
    assert!(matches!(e, RefundError::Transport { .. }), "{e:?}");
    assert!(!format!("{e:?} {e}").contains("wrong-pw"), "{e:?}");
    assert!(proxy.refused.load(Ordering::SeqCst) >= 1);
}

#[test]
fn a_bad_proxy_url_is_a_config_error_without_its_password() {
    let sb = Sandbox::start().unwrap();
    let c = sb.credentials();
    for bad in [
        "not a url",
        "ftp://user:hunter2@proxy:21",
        "proxy.example.com:3128",
    ] {
        let e = ClientConfig::builder(
            c.mchid.clone(),
            c.merchant_serial_no.clone(),
            c.merchant_private_key_pem.clone(),
            c.api_v3_key.clone(),
        )
        .wechatpay_public_key(
            c.wechatpay_public_key_id.clone().unwrap(),
            c.wechatpay_public_key_pem.clone().unwrap(),
        )
        .options(options(bad.into()))
        .build()
        .unwrap_err();
        assert!(
            matches!(&e, RefundError::Config { reason } if reason.contains("proxy") && !reason.contains("hunter2")),
            "{bad}: {e:?}"
        );
    }
    // Unreachable proxy: a transport error at the call.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let client = client_through(&sb, format!("http://127.0.0.1:{port}"));
    let e = client.query_refund("R404".into(), None).unwrap_err();
    assert!(matches!(e, RefundError::Transport { .. }), "{e:?}");
}

#[test]
fn v2_calls_tunnel_through_the_proxy_with_mutual_tls() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T-PROXY-3".into(), 10_000).unwrap();
    let proxy = ForwardProxy::start(None);
    let v = sb.v2_credentials().unwrap();
    let config = V2Config::builder(v.appid, v.mch_id, v.api_key)
        .client_certificate_pem(v.client_cert_pem, v.client_key_pem.as_str())
        .base_url(v.base_url.clone())
        .options(ClientOptions {
            trust_roots_pem: vec![v.ca_pem],
            ..options(proxy.url(None))
        })
        .build()
        .unwrap();
    let client = V2RefundClient::new(Arc::new(config)).unwrap();
    let r = client
        .refund(V2RefundRequest::by_out_trade_no(
            "T-PROXY-3",
            "R-PROXY-3",
            100,
            10_000,
        ))
        .unwrap();
    assert_eq!(r.refund_fee, 100);
    // HTTPS through an HTTP proxy is a CONNECT tunnel to the sandbox's v2 port.
    let port = v.base_url.rsplit(':').next().unwrap().to_string();
    assert!(
        proxy
            .targets()
            .iter()
            .any(|t| t.ends_with(&format!(":{port}"))),
        "{:?}",
        proxy.targets()
    );
}
