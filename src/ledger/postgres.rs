//! The ledger on PostgreSQL: several processes on several hosts share one book. An entry's row
//! is locked (`FOR UPDATE`) while a change and its event are written; refunds to send or query
//! are leased (`lease_owner`, `lease_until`) with `FOR UPDATE SKIP LOCKED`, so one worker sends
//! or queries a refund at a time and a dead worker's lease is taken over when it expires;
//! events are appended under a transaction-level advisory lock, so `seq` (a sequence) is handed
//! out in commit order. The tables live in the schema `wechatpay_refund`, created on first open;
//! its version is kept in `wechatpay_refund.schema_version`.
//!
//! Durability: a commit is durable when the server's `synchronous_commit` is on (its default),
//! on the server's disks and its replicas as configured there; a crash of the client process
//! loses nothing committed.
//!
//! The URL is libpq's (`postgresql://user:pass@host:port/db?sslmode=require`); TLS is rustls
//! with the webpki roots (or the PEM roots the options give). `sslmode=prefer` (the default)
//! tries TLS and falls back to plain text, `require` insists on TLS, `disable` never uses it.
//! The password never appears in an error, `Debug` or `Display`.

use super::store::{Conn, Row, Value};
use super::store_error;
use crate::error::{RefundError, Result};
use postgres::error::SqlState;
use postgres::types::{IsNull, ToSql, Type};
use postgres::{Client, Statement};
use std::collections::HashMap;
use std::str::FromStr;

const MIGRATIONS: &[&str] = &[
    // 0 -> 1
    "CREATE TABLE entries (
        out_refund_no TEXT PRIMARY KEY,
        request_json TEXT,
        out_trade_no TEXT,
        transaction_id TEXT,
        sub_mchid TEXT,
        refund BIGINT NOT NULL,
        total BIGINT NOT NULL,
        currency TEXT NOT NULL,
        status TEXT,
        state TEXT NOT NULL,
        refund_id TEXT,
        attempts BIGINT NOT NULL DEFAULT 0,
        polls BIGINT NOT NULL DEFAULT 0,
        last_error_code TEXT,
        last_error_message TEXT,
        abnormal_kind TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        next_poll_at BIGINT
    );
    CREATE INDEX entries_state ON entries (state, next_poll_at);
    CREATE TABLE events (
        seq BIGSERIAL PRIMARY KEY,
        out_refund_no TEXT NOT NULL,
        status TEXT NOT NULL,
        at BIGINT NOT NULL,
        source TEXT NOT NULL
    );
    CREATE TABLE notifications (
        id TEXT PRIMARY KEY,
        out_refund_no TEXT NOT NULL,
        at BIGINT NOT NULL
    );",
    // 1 -> 2
    "ALTER TABLE entries ADD COLUMN lease_owner TEXT, ADD COLUMN lease_until BIGINT,
        ADD COLUMN success_time TEXT;
    CREATE INDEX entries_updated ON entries (updated_at);
    CREATE INDEX events_at ON events (status, at);",
];

/// Advisory lock keys (transaction level): the schema's migration, and the event log's order.
const MIGRATION_LOCK: i64 = 0x5752_4c00;
const EVENTS_LOCK: i64 = 0x5752_4c01;

/// A PostgreSQL URL, its password kept out of every message.
pub(crate) struct PgTarget {
    config: postgres::Config,
    password: Option<String>,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTarget")
            .field("user", &self.config.get_user())
            .field("dbname", &self.config.get_dbname())
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl PgTarget {
    pub(crate) fn parse(url: &str) -> Result<Self> {
        let password = password_of(url);
        let config = postgres::Config::from_str(url).map_err(|e| {
            let mut reason = format!("not a PostgreSQL URL: {e}");
            redact(&mut reason, password.as_deref());
            RefundError::invalid("url", reason)
        })?;
        Ok(Self { config, password })
    }
}

/// The password of a `postgresql://user:pass@host` URL (or a `password=` key), to redact.
fn password_of(url: &str) -> Option<String> {
    if let Some(rest) = url.split_once("://").map(|(_, r)| r) {
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if let Some((_, pass)) = userinfo.split_once(':') {
                if !pass.is_empty() {
                    return Some(pass.to_string());
                }
            }
        }
    }
    url.split(['?', '&', ' '])
        .find_map(|kv| kv.strip_prefix("password="))
        .filter(|p| !p.is_empty())
        .map(str::to_string)
}

fn redact(text: &mut String, password: Option<&str>) {
    if let Some(p) = password {
        if !p.is_empty() {
            *text = text.replace(p, "<redacted>");
            // The URL-decoded form too (`%40` for `@`…).
            let decoded = percent_decoded(p);
            if decoded != p && !decoded.is_empty() {
                *text = text.replace(&decoded, "<redacted>");
            }
        }
    }
}

/// `%XX` decoded (a URL's password as the server sees it); invalid escapes kept as they are.
fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn db_error(e: &postgres::Error, password: Option<&str>) -> RefundError {
    let retryable = e.is_closed()
        || matches!(
            e.code(),
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED
                || *c == SqlState::LOCK_NOT_AVAILABLE
                || *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
                || *c == SqlState::TOO_MANY_CONNECTIONS
                || *c == SqlState::QUERY_CANCELED
        )
        // Could not connect (refused, unreachable, timed out): the server may come back.
        || (e.code().is_none() && e.as_db_error().is_none());
    let mut reason = match e.code() {
        Some(c) if *c == SqlState::DISK_FULL => format!("PostgreSQL: the disk is full ({e})"),
        _ => match e.as_db_error() {
            Some(d) => format!("PostgreSQL: {} ({})", d.message(), d.code().code()),
            None => format!("PostgreSQL: {e}"),
        },
    };
    redact(&mut reason, password);
    store_error(reason, retryable)
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Int(v) => v.to_sql(ty, out),
            Value::Text(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty) || <String as ToSql>::accepts(ty)
    }

    fn to_sql_checked(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Int(v) => v.to_sql_checked(ty, out),
            Value::Text(v) => v.to_sql_checked(ty, out),
        }
    }
}

/// `?N` → `$N` (the ledger's SQL has no `?` elsewhere).
fn dollar(sql: &str) -> String {
    sql.replace('?', "$")
}

pub(crate) struct PgConn {
    target: PgTarget,
    tls_roots_pem: Vec<String>,
    client: Client,
    statements: HashMap<String, Statement>,
}

impl PgConn {
    pub(crate) fn open(target: PgTarget, tls_roots_pem: Vec<String>) -> Result<Self> {
        let client = connect(&target, &tls_roots_pem)?;
        Ok(Self {
            target,
            tls_roots_pem,
            client,
            statements: HashMap::new(),
        })
    }

    fn err(&self, e: postgres::Error) -> RefundError {
        db_error(&e, self.target.password.as_deref())
    }

    /// After the server closed the connection (a restart, a failover): connect again, outside
    /// any transaction (one cut short is rolled back by the server).
    fn reconnect_if_closed(&mut self) -> Result<()> {
        if self.client.is_closed() {
            self.statements.clear();
            self.client = connect(&self.target, &self.tls_roots_pem)?;
        }
        Ok(())
    }

    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(&dollar(sql)).map_err(|e| self.err(e))?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

fn connect(target: &PgTarget, roots_pem: &[String]) -> Result<Client> {
    let mut config = target.config.clone();
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(10));
    }
    let password = target.password.as_deref();
    let mut client = match config.get_ssl_mode() {
        postgres::config::SslMode::Disable => config
            .connect(postgres::NoTls)
            .map_err(|e| db_error(&e, password))?,
        _ => config
            .connect(tls_connector(roots_pem)?)
            .map_err(|e| db_error(&e, password))?,
    };
    client
        .batch_execute("SET search_path TO wechatpay_refund")
        .map_err(|e| db_error(&e, password))?;
    Ok(client)
}

fn tls_connector(roots_pem: &[String]) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    if roots_pem.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    } else {
        for (i, pem) in roots_pem.iter().enumerate() {
            let block = crate::crypto::der::parse_pem(pem)
                .map_err(|e| RefundError::config(format!("PostgreSQL TLS root {i}: {e}")))?;
            if block.label != "CERTIFICATE" {
                return Err(RefundError::config(format!(
                    "PostgreSQL TLS root {i}: expected BEGIN CERTIFICATE"
                )));
            }
            roots
                .add(rustls::pki_types::CertificateDer::from(block.der.to_vec()))
                .map_err(|e| RefundError::config(format!("PostgreSQL TLS root {i}: {e}")))?;
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| RefundError::config(format!("PostgreSQL TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
}

impl Conn for PgConn {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let stmt = self.statement(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|v| v as _).collect();
        self.client.execute(&stmt, &refs).map_err(|e| self.err(e))
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let stmt = self.statement(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|v| v as _).collect();
        let rows = self.client.query(&stmt, &refs).map_err(|e| self.err(e))?;
        rows.iter()
            .map(|row| {
                let mut values = Vec::with_capacity(row.len());
                for (i, col) in row.columns().iter().enumerate() {
                    let t = col.type_();
                    let v = if *t == Type::INT8 {
                        Value::Int(row.try_get::<_, Option<i64>>(i).map_err(|e| self.err(e))?)
                    } else if *t == Type::INT4 {
                        Value::Int(
                            row.try_get::<_, Option<i32>>(i)
                                .map_err(|e| self.err(e))?
                                .map(i64::from),
                        )
                    } else if *t == Type::TEXT || *t == Type::VARCHAR {
                        Value::Text(
                            row.try_get::<_, Option<String>>(i)
                                .map_err(|e| self.err(e))?,
                        )
                    } else {
                        return Err(store_error(
                            format!("column {i}: unexpected PostgreSQL type {t}"),
                            false,
                        ));
                    };
                    values.push(v);
                }
                Ok(Row(values))
            })
            .collect()
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.client.batch_execute(sql).map_err(|e| self.err(e))
    }

    fn begin(&mut self) -> Result<()> {
        self.reconnect_if_closed()?;
        self.batch("BEGIN")
    }

    fn schema_version(&mut self) -> Result<i64> {
        self.batch(&format!(
            "SELECT pg_advisory_xact_lock({MIGRATION_LOCK});
             CREATE SCHEMA IF NOT EXISTS wechatpay_refund;
             CREATE TABLE IF NOT EXISTS wechatpay_refund.schema_version (version BIGINT NOT NULL);"
        ))?;
        let rows = self.query(
            "SELECT COALESCE(MAX(version), 0) FROM wechatpay_refund.schema_version",
            &[],
        )?;
        match rows.first().map(|r| &r.0[..]) {
            Some([Value::Int(Some(v))]) => Ok(*v),
            _ => Ok(0),
        }
    }

    fn set_schema_version(&mut self, version: i64) -> Result<()> {
        self.execute("DELETE FROM wechatpay_refund.schema_version", &[])?;
        self.execute(
            "INSERT INTO wechatpay_refund.schema_version (version) VALUES (?1)",
            &[version.into()],
        )?;
        Ok(())
    }

    fn migrations(&self) -> &'static [&'static str] {
        MIGRATIONS
    }

    fn lock_events(&mut self) -> Result<()> {
        self.batch(&format!("SELECT pg_advisory_xact_lock({EVENTS_LOCK})"))
    }

    fn for_update(&self) -> &'static str {
        " FOR UPDATE"
    }

    fn for_update_skip_locked(&self) -> &'static str {
        " FOR UPDATE SKIP LOCKED"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_found_and_redacted() {
        let url = "postgresql://refunds:s3cr%40t@db.example:5432/pay?sslmode=require";
        assert_eq!(password_of(url).as_deref(), Some("s3cr%40t"));
        let mut msg = "failed for s3cr%40t and s3cr@t".to_string();
        redact(&mut msg, password_of(url).as_deref());
        assert_eq!(msg, "failed for <redacted> and <redacted>");
        assert_eq!(
            password_of("host=db user=u password=hunter2 dbname=x").as_deref(),
            Some("hunter2")
        );
        assert_eq!(password_of("postgresql://u@db/x"), None);
        let t = PgTarget::parse(url).unwrap();
        let debug = format!("{t:?}");
        assert!(!debug.contains("s3cr"), "{debug}");
    }

    #[test]
    fn placeholders_become_dollars() {
        assert_eq!(dollar("a = ?1 AND b = ?12"), "a = $1 AND b = $12");
    }
}
