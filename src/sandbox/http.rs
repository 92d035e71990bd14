//! The sandbox's HTTP/1.1 server: one thread per connection, keep-alive, request heads parsed
//! by `httparse`, bodies by `Content-Length`. Owning the sockets lets the sandbox really drop a
//! connection (a fault), stop promptly and join every thread it started.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Largest request head and body the sandbox reads.
const MAX_HEAD: usize = 64 * 1024;
pub(crate) const MAX_BODY: usize = 1024 * 1024;
/// How long a kept-alive connection may sit idle between requests.
const IDLE: Duration = Duration::from_secs(30);
/// How long one request may take to arrive, from its first byte to its last: a client that
/// trickles bytes cannot hold a connection thread forever (it gets a 503).
pub(crate) const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
/// At most this many connections at once; more are answered 503 at once.
pub(crate) const MAX_CONNECTIONS: usize = 256;
const POLL: Duration = Duration::from_millis(100);
const BUSY: &[u8] = b"{\"code\":\"SYSTEM_ERROR\",\"message\":\"sandbox busy or request too slow\"}";

/// A request as received.
pub(crate) struct Incoming {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What to do with a request.
pub(crate) enum Outcome {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Close the connection without answering.
    Drop,
}

pub(crate) type Handler = Arc<dyn Fn(Incoming) -> Outcome + Send + Sync>;

/// A listening server; `stop` closes the listener and joins every connection thread.
pub(crate) struct HttpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl HttpServer {
    pub fn bind(host: &str, port: u16, handler: Handler) -> std::io::Result<Self> {
        let listener = TcpListener::bind((host, port))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let active = Arc::new(AtomicUsize::new(0));
        let (s, c) = (stop.clone(), connections.clone());
        let accept = std::thread::Builder::new()
            .name("wechatpay-sandbox-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if s.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(mut stream) = stream else { continue };
                    if active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
                        // Refused without a thread: 503 and close.
                        let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
                        let _ = respond(&mut stream, 503, &[], BUSY, true);
                        continue;
                    }
                    active.fetch_add(1, Ordering::SeqCst);
                    let (handler, stop, active) = (handler.clone(), s.clone(), active.clone());
                    if let Ok(h) = std::thread::Builder::new()
                        .name("wechatpay-sandbox-conn".into())
                        .spawn(move || {
                            serve_connection(stream, &handler, &stop);
                            active.fetch_sub(1, Ordering::SeqCst);
                        })
                    {
                        let mut all = c.lock().unwrap_or_else(|p| p.into_inner());
                        all.retain(|h| !h.is_finished());
                        all.push(h);
                    }
                }
            })?;
        Ok(Self {
            addr,
            stop,
            accept: Some(accept),
            connections,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            // Wake the blocking accept so it sees the flag and drops the listener (a wildcard
            // address is woken through loopback).
            let mut wake = self.addr;
            if wake.ip().is_unspecified() {
                wake.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
            let _ = accept.join();
        }
        let conns: Vec<_> =
            std::mem::take(&mut *self.connections.lock().unwrap_or_else(|p| p.into_inner()));
        for c in conns {
            let _ = c.join();
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Read from `stream` into `buf` until some bytes arrived, EOF, stop or `until`.
fn fill(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    stop: &AtomicBool,
    until: Instant,
) -> std::io::Result<bool> {
    let mut chunk = [0u8; 8192];
    loop {
        if stop.load(Ordering::SeqCst) || Instant::now() > until {
            return Ok(false);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(false),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(true);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(e),
        }
    }
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    close: bool,
) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: {}\r\n\r\n",
        body.len(),
        if close { "close" } else { "keep-alive" }
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)?;
    stream.flush()
}

fn serve_connection(mut stream: TcpStream, handler: &Handler, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // Idle until a request starts; from its first byte it has REQUEST_DEADLINE to arrive.
        let mut started: Option<Instant> = (!buf.is_empty()).then(Instant::now);
        let until = |started: &mut Option<Instant>, buf: &[u8]| match started {
            Some(t) => *t + REQUEST_DEADLINE,
            None if buf.is_empty() => Instant::now() + IDLE,
            None => *started.insert(Instant::now()) + REQUEST_DEADLINE,
        };
        let too_slow = |stream: &mut TcpStream, started: &Option<Instant>| {
            if started.is_some_and(|t| t.elapsed() > REQUEST_DEADLINE) {
                let _ = respond(stream, 503, &[], BUSY, true);
            }
        };
        // The head.
        let (head_len, method, url, headers, keep_alive) = loop {
            let mut slots = [httparse::EMPTY_HEADER; 64];
            let mut req = httparse::Request::new(&mut slots);
            match req.parse(&buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let headers: Vec<(String, String)> = req
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_string(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect();
                    let conn = headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("Connection"))
                        .map(|(_, v)| v.to_ascii_lowercase());
                    let keep_alive = match req.version {
                        Some(1) => !conn.as_deref().is_some_and(|c| c.contains("close")),
                        _ => conn.as_deref().is_some_and(|c| c.contains("keep-alive")),
                    };
                    break (
                        n,
                        req.method.unwrap_or("GET").to_string(),
                        req.path.unwrap_or("/").to_string(),
                        headers,
                        keep_alive,
                    );
                }
                Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {
                    let deadline = until(&mut started, &buf);
                    match fill(&mut stream, &mut buf, stop, deadline) {
                        Ok(true) => continue,
                        _ => {
                            if !buf.is_empty() {
                                started.get_or_insert_with(Instant::now);
                            }
                            too_slow(&mut stream, &started);
                            return;
                        }
                    }
                }
                _ => {
                    let _ = respond(
                        &mut stream,
                        400,
                        &[],
                        b"{\"code\":\"PARAM_ERROR\",\"message\":\"malformed HTTP request\"}",
                        true,
                    );
                    return;
                }
            }
        };
        // The body.
        let length = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Content-Length"))
            .map(|(_, v)| v.trim().parse::<usize>());
        let chunked = headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("Transfer-Encoding") && !v.eq_ignore_ascii_case("identity")
        });
        let length = match (length, chunked) {
            (None, false) => 0,
            (Some(Ok(n)), false) if n <= MAX_BODY => n,
            (Some(Ok(_)), false) => {
                let _ = respond(
                    &mut stream,
                    413,
                    &[],
                    b"{\"code\":\"PARAM_ERROR\",\"message\":\"request body too large\"}",
                    true,
                );
                return;
            }
            _ => {
                let _ = respond(
                    &mut stream,
                    400,
                    &[],
                    b"{\"code\":\"PARAM_ERROR\",\"message\":\"Content-Length required\"}",
                    true,
                );
                return;
            }
        };
        while buf.len() < head_len + length {
            let deadline = until(&mut started, &buf);
            match fill(&mut stream, &mut buf, stop, deadline) {
                Ok(true) => {}
                _ => {
                    too_slow(&mut stream, &started);
                    return;
                }
            }
        }
        let body = buf[head_len..head_len + length].to_vec();
        buf.drain(..head_len + length);
        match handler(Incoming {
            method,
            url,
            headers,
            body,
        }) {
            Outcome::Drop => {
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
            Outcome::Respond {
                status,
                headers,
                body,
            } => {
                if respond(&mut stream, status, &headers, &body, !keep_alive).is_err()
                    || !keep_alive
                {
                    return;
                }
            }
        }
        if stop.load(Ordering::SeqCst) {
            return;
        }
    }
}

/// Decode `%XX` escapes of a path segment (the control API and WeChat Pay's paths alike);
/// `None` for a bad escape or bytes that are not UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
