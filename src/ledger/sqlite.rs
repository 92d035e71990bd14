//! The ledger on SQLite: one file, WAL (readers never block the writer), a busy timeout (several
//! processes on one host wait for each other instead of failing), every change in an
//! `IMMEDIATE` transaction together with its event. The schema's version is SQLite's
//! `PRAGMA user_version`.
//!
//! Durability: with `synchronous=FULL` every commit is on disk when `submit` returns (it
//! survives a power loss); with `NORMAL` (WAL) a commit survives a crash of the process, and a
//! power loss may lose the last transactions (never corrupt the file).

use super::store::{Conn, Row, Value};
use super::store_error;
use crate::error::{RefundError, Result};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 0 -> 1
    "CREATE TABLE entries (
        out_refund_no TEXT PRIMARY KEY,
        request_json TEXT,
        out_trade_no TEXT,
        transaction_id TEXT,
        sub_mchid TEXT,
        refund INTEGER NOT NULL,
        total INTEGER NOT NULL,
        currency TEXT NOT NULL,
        status TEXT,
        state TEXT NOT NULL,
        refund_id TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        polls INTEGER NOT NULL DEFAULT 0,
        last_error_code TEXT,
        last_error_message TEXT,
        abnormal_kind TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        next_poll_at INTEGER
    );
    CREATE INDEX entries_state ON entries (state, next_poll_at);
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        out_refund_no TEXT NOT NULL,
        status TEXT NOT NULL,
        at INTEGER NOT NULL,
        source TEXT NOT NULL
    );
    CREATE TABLE notifications (
        id TEXT PRIMARY KEY,
        out_refund_no TEXT NOT NULL,
        at INTEGER NOT NULL
    );",
    // 1 -> 2
    "ALTER TABLE entries ADD COLUMN lease_owner TEXT;
    ALTER TABLE entries ADD COLUMN lease_until INTEGER;
    ALTER TABLE entries ADD COLUMN success_time TEXT;
    CREATE INDEX entries_updated ON entries (updated_at);
    CREATE INDEX events_at ON events (status, at);",
];

fn db(e: rusqlite::Error) -> RefundError {
    use rusqlite::ErrorCode::*;
    let code = e.sqlite_error_code();
    let retryable = matches!(code, Some(DatabaseBusy | DatabaseLocked));
    let reason = match code {
        Some(DiskFull) => format!("SQLite: the disk is full ({e})"),
        Some(DatabaseBusy | DatabaseLocked) => {
            format!(
                "SQLite: the database stayed locked by another writer past the busy timeout ({e})"
            )
        }
        Some(ReadOnly) => format!("SQLite: the database is read-only ({e})"),
        _ => format!("SQLite: {e}"),
    };
    store_error(reason, retryable)
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Int(Some(v)) => ToSqlOutput::from(*v),
            Value::Text(Some(v)) => ToSqlOutput::from(v.as_str()),
            Value::Int(None) | Value::Text(None) => ToSqlOutput::from(rusqlite::types::Null),
        })
    }
}

pub(crate) struct SqliteConn {
    conn: Connection,
}

impl SqliteConn {
    pub(crate) fn open(path: &str, synchronous_full: bool) -> Result<Self> {
        let conn = Connection::open(path).map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(
            None,
            "synchronous",
            if synchronous_full { "FULL" } else { "NORMAL" },
        )
        .map_err(db)?;
        Ok(Self { conn })
    }
}

impl Conn for SqliteConn {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(db)?;
        stmt.execute(rusqlite::params_from_iter(params.iter()))
            .map(|n| n as u64)
            .map_err(db)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(db)?;
        let n = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(db)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db)? {
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                values.push(match row.get_ref(i).map_err(db)? {
                    ValueRef::Null => Value::Int(None),
                    ValueRef::Integer(v) => Value::Int(Some(v)),
                    ValueRef::Text(t) => Value::Text(Some(String::from_utf8_lossy(t).into_owned())),
                    other => {
                        return Err(store_error(
                            format!("column {i}: unexpected SQLite type {:?}", other.data_type()),
                            false,
                        ))
                    }
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(db)
    }

    fn begin(&mut self) -> Result<()> {
        self.batch("BEGIN IMMEDIATE")
    }

    fn schema_version(&mut self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)
    }

    fn set_schema_version(&mut self, version: i64) -> Result<()> {
        self.conn
            .pragma_update(None, "user_version", version)
            .map_err(db)
    }

    fn migrations(&self) -> &'static [&'static str] {
        MIGRATIONS
    }

    fn lock_events(&mut self) -> Result<()> {
        // BEGIN IMMEDIATE holds the only write lock already.
        Ok(())
    }

    fn for_update(&self) -> &'static str {
        ""
    }

    fn for_update_skip_locked(&self) -> &'static str {
        ""
    }
}
