//! HTTPS for the sandbox: a generated test CA, a server certificate for 127.0.0.1 / localhost,
//! and a small TLS terminator (rustls on the aws-lc-rs provider, the crate's one crypto
//! library) in front of the plain-HTTP server.

use super::stopping;
use crate::error::{RefundError, Result};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The generated test PKI: the CA certificate to trust, and the server's configuration.
pub(crate) struct TestPki {
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

fn cfg_err(e: impl std::fmt::Display) -> RefundError {
    RefundError::config(format!("sandbox TLS: {e}"))
}

/// A fresh CA and a server certificate for `127.0.0.1`, `::1` and `localhost`.
pub(crate) fn test_pki() -> Result<TestPki> {
    let ca_key = rcgen::KeyPair::generate().map_err(cfg_err)?;
    let mut ca_params = rcgen::CertificateParams::default();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "wechatpay-refund sandbox TEST CA",
    );
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).map_err(cfg_err)?;
    let server_key = rcgen::KeyPair::generate().map_err(cfg_err)?;
    let mut params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "::1".into(), "localhost".into()])
            .map_err(cfg_err)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "wechatpay-refund sandbox (TEST)");
    let cert = params.signed_by(&server_key, &ca).map_err(cfg_err)?;
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into());
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(cfg_err)?
    .with_no_client_auth()
    .with_single_cert(vec![cert.der().clone(), ca.der().clone()], key_der)
    .map_err(cfg_err)?;
    Ok(TestPki {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    })
}

/// Accept TLS on `listener` and relay each connection's plaintext to `backend`.
pub(crate) fn serve(
    listener: TcpListener,
    backend: SocketAddr,
    config: Arc<rustls::ServerConfig>,
    shared: Arc<super::server::Shared>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
) {
    let stop = &shared.stopping;
    listener.set_nonblocking(true).ok();
    while !stopping(stop) {
        match listener.accept() {
            Ok((tcp, _)) => {
                let (config, shared) = (config.clone(), shared.clone());
                if let Ok(h) = std::thread::Builder::new()
                    .name("wechatpay-sandbox-tls".into())
                    .spawn(move || relay(tcp, backend, config, &shared.stopping))
                {
                    let mut c = connections.lock().unwrap_or_else(|p| p.into_inner());
                    c.retain(|h| !h.is_finished());
                    c.push(h);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn relay(
    tcp: TcpStream,
    backend: SocketAddr,
    config: Arc<rustls::ServerConfig>,
    stop: &AtomicBool,
) {
    let _ = relay_inner(tcp, backend, config, stop);
}

fn relay_inner(
    tcp: TcpStream,
    backend: SocketAddr,
    config: Arc<rustls::ServerConfig>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let poll = Some(Duration::from_millis(5));
    tcp.set_nonblocking(false)?;
    tcp.set_read_timeout(poll)?;
    let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut plain = TcpStream::connect(backend)?;
    plain.set_read_timeout(poll)?;
    let mut buf = vec![0u8; 16 * 1024];
    let mut idle_ms = 0u64;
    while !stopping(stop) && idle_ms < 30_000 {
        let mut moved = false;
        match tls.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                plain.write_all(&buf[..n])?;
                moved = true;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(e),
        }
        match plain.read(&mut buf) {
            Ok(0) => {
                tls.conn.send_close_notify();
                let _ = tls.flush();
                return Ok(());
            }
            Ok(n) => {
                tls.write_all(&buf[..n])?;
                tls.flush()?;
                moved = true;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(e),
        }
        idle_ms = if moved { 0 } else { idle_ms + 5 };
    }
    Ok(())
}
