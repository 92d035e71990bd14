//! `wechatpay-refund`: the operator's command line, thin over the library — batch refunds from a
//! CSV through the refund ledger (progress, resume after a crash), single refunds, queries,
//! notifications, certificates, the ledger, the daily bill and its reconciliation.
//!
//! `--sandbox` runs any command against a fresh embedded sandbox, so it can be tried without
//! a WeChat Pay account. Exit status: 0 success, 1 the work found problems (failed rows,
//! reconciliation differences), 2 a usage or configuration error (one line on stderr).
// RefundError is large by design (flat, named fields for the bindings); closures returning it
// are on the error path only.
#![allow(clippy::result_large_err)]

use clap::{Parser, Subcommand};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wechatpay_refund::bill::{self, BillType, TradeBillRequest};
use wechatpay_refund::ledger::{LedgerEntry, LedgerState, RefundLedger};
use wechatpay_refund::reconcile::{china_day_window, reconcile};
use wechatpay_refund::sandbox::Sandbox;
use wechatpay_refund::*;

#[derive(Parser)]
#[command(
    name = "wechatpay-refund",
    version,
    about = "WeChat Pay refunds for operators: batch refunds with resume, the daily bill, reconciliation",
    after_help = "Try any command without an account: wechatpay-refund --sandbox <COMMAND> ...\n\
                  Configuration: a TOML file whose keys are ClientConfig's parameter names \
                  (mchid, merchant_serial_no, merchant_private_key_pem_file, api_v3_key_env, \
                  wechatpay_public_key_id, wechatpay_public_key_pem_file, base_url, [options] ...)."
)]
struct Cli {
    /// The configuration file (TOML).
    #[arg(long, env = "WECHATPAY_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// The refund ledger: a SQLite file path (or a postgresql:// URL).
    #[arg(long, env = "WECHATPAY_LEDGER", global = true)]
    ledger: Option<String>,
    /// Run against a fresh embedded sandbox (TEST credentials, nothing real is refunded).
    #[arg(long, global = true)]
    sandbox: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Refund every row of a CSV (out_trade_no,out_refund_no,refund,total[,reason,notify_url,
    /// sub_mchid,funds_account]) through the ledger: a rerun sends nothing new and completes
    /// what a crash interrupted.
    Batch {
        /// The CSV file.
        file: PathBuf,
        /// Write one line per row: out_refund_no,status,refund_id,error.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Rows in flight at once.
        #[arg(long, default_value_t = 4)]
        workers: usize,
        /// At most this many refunds started per second.
        #[arg(long, default_value_t = 50.0)]
        rate: f64,
    },
    /// Apply for one refund (through the ledger when one is given).
    Apply {
        #[arg(long)]
        out_trade_no: String,
        #[arg(long)]
        out_refund_no: String,
        /// Refund amount, fen.
        #[arg(long)]
        refund: i64,
        /// Order total, fen.
        #[arg(long)]
        total: i64,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        notify_url: Option<String>,
        #[arg(long)]
        sub_mchid: Option<String>,
        #[arg(long)]
        funds_account: Option<String>,
    },
    /// Query a refund: its verified answer as JSON on stdout.
    Query {
        out_refund_no: String,
        #[arg(long)]
        sub_mchid: Option<String>,
    },
    /// Resolve an ABNORMAL refund (to the user's card or the merchant's account). The card
    /// number and name are read from environment variables, never from arguments.
    Abnormal {
        #[arg(long)]
        out_refund_no: String,
        #[arg(long)]
        refund_id: String,
        /// USER_BANK_CARD or MERCHANT_BANK_CARD.
        #[arg(long = "type")]
        kind: String,
        #[arg(long)]
        bank_type: Option<String>,
        /// The environment variable holding the card number.
        #[arg(long)]
        bank_account_env: Option<String>,
        /// The environment variable holding the account holder's name.
        #[arg(long)]
        real_name_env: Option<String>,
        #[arg(long)]
        sub_mchid: Option<String>,
    },
    /// Refund notifications.
    Notification {
        #[command(subcommand)]
        action: NotificationAction,
    },
    /// Platform certificates (certificate mode).
    Certificates {
        #[command(subcommand)]
        action: CertificatesAction,
    },
    /// The refund ledger.
    Ledger {
        #[command(subcommand)]
        action: LedgerAction,
    },
    /// The daily trade bill.
    Bill {
        #[command(subcommand)]
        action: BillAction,
    },
    /// Reconcile a day's bill against the ledger; exit 1 when anything differs.
    Reconcile {
        /// The day, YYYY-MM-DD (China time).
        #[arg(long)]
        date: String,
        /// Write each difference: kind,out_refund_no,bill,ledger.
        #[arg(long)]
        report: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum NotificationAction {
    /// Verify and decrypt a notification: the decrypted resource as JSON.
    Verify {
        /// The request headers: a JSON object, or `Name: value` lines.
        #[arg(long)]
        headers: PathBuf,
        /// The raw request body.
        #[arg(long)]
        body: PathBuf,
    },
}

#[derive(Subcommand)]
enum CertificatesAction {
    /// Download and verify the platform certificates.
    Download {
        /// Also write each one to DIR/SERIAL.pem (for `platform_certificates_pem_file`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum LedgerAction {
    /// Counts by state, and the refunds that need action.
    Status,
    /// Query the refunds that are not final and record what changed.
    Poll,
    /// The status changes after SEQ, one JSON line each.
    Events {
        #[arg(long, default_value_t = 0)]
        after: i64,
    },
}

#[derive(Subcommand)]
enum BillAction {
    /// Download a day's bill, its SHA1 checked while it streams.
    Download {
        /// The day, YYYY-MM-DD (China time).
        #[arg(long)]
        date: String,
        /// ALL, SUCCESS or REFUND.
        #[arg(long = "type", default_value = "ALL")]
        kind: String,
        /// Ask for it gzip-compressed (the file is saved as downloaded).
        #[arg(long)]
        gzip: bool,
        /// Where to save it (default: tradebill-DATE-TYPE.csv[.gz]).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// A failure to report: one line on stderr, then the exit status.
struct Failure {
    message: String,
    code: i32,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        code: 2,
    }
}

impl From<RefundError> for Failure {
    fn from(e: RefundError) -> Self {
        let code = match e {
            RefundError::Config { .. } | RefundError::InvalidInput { .. } => 2,
            _ => 1,
        };
        Failure {
            message: e.to_string(),
            code,
        }
    }
}

type Out<T> = std::result::Result<T, Failure>;

fn main() {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        Err(f) => {
            eprintln!("wechatpay-refund: {}", f.message.replace('\n', " "));
            f.code
        }
    };
    std::process::exit(code);
}

/// What a command runs with.
struct Env {
    client: Arc<RefundClient>,
    sandbox: Option<Arc<Sandbox>>,
    ledger_path: Option<String>,
}

impl Env {
    fn ledger(&self) -> Out<Arc<RefundLedger>> {
        let Some(path) = &self.ledger_path else {
            return Err(usage(
                "this command needs the refund ledger: --ledger PATH (a SQLite file) or WECHATPAY_LEDGER",
            ));
        };
        if path.starts_with("postgresql://") || path.starts_with("postgres://") {
            return Ok(RefundLedger::open_postgres(path, self.client.clone())?);
        }
        Ok(RefundLedger::open_sqlite(path, self.client.clone())?)
    }
}

fn run(cli: Cli) -> Out<i32> {
    let env = if cli.sandbox {
        let sb = Sandbox::start()?;
        eprintln!(
            "wechatpay-refund: using a fresh embedded sandbox at {} (TEST credentials; nothing real is refunded)",
            sb.base_url()
        );
        let ledger_path = match cli.ledger.clone() {
            Some(p) => Some(p),
            None => {
                let p = std::env::temp_dir()
                    .join(format!(
                        "wechatpay-refund-sandbox-{}.sqlite",
                        std::process::id()
                    ))
                    .to_string_lossy()
                    .into_owned();
                eprintln!("wechatpay-refund: sandbox ledger at {p}");
                Some(p)
            }
        };
        Env {
            client: RefundClient::new(sb.client_config()?)?,
            sandbox: Some(sb),
            ledger_path,
        }
    } else {
        let Some(path) = &cli.config else {
            return Err(usage(
                "no configuration: give --config FILE (or WECHATPAY_CONFIG), or try --sandbox",
            ));
        };
        Env {
            client: RefundClient::new(load_config(path)?)?,
            sandbox: None,
            ledger_path: cli.ledger.clone(),
        }
    };
    match cli.command {
        Command::Batch {
            file,
            report,
            workers,
            rate,
        } => batch(&env, &file, report.as_deref(), workers, rate),
        Command::Apply {
            out_trade_no,
            out_refund_no,
            refund,
            total,
            reason,
            notify_url,
            sub_mchid,
            funds_account,
        } => {
            let mut req =
                CreateRefundRequest::by_out_trade_no(&out_trade_no, out_refund_no, refund, total);
            req.reason = reason;
            req.notify_url = notify_url;
            req.sub_mchid = sub_mchid;
            req.funds_account = funds_account.map(|f| RequestFundsAccount::from_wire(&f));
            if let Some(sb) = &env.sandbox {
                seed_order(sb, &out_trade_no, total);
            }
            if env.ledger_path.is_some() {
                let entry = env.ledger()?.submit(req)?;
                println!("{}", entry_json(&entry));
            } else {
                println!("{}", env.client.create_refund(req)?.raw_json);
            }
            Ok(0)
        }
        Command::Query {
            out_refund_no,
            sub_mchid,
        } => {
            println!(
                "{}",
                env.client.query_refund(out_refund_no, sub_mchid)?.raw_json
            );
            Ok(0)
        }
        Command::Abnormal {
            out_refund_no,
            refund_id,
            kind,
            bank_type,
            bank_account_env,
            real_name_env,
            sub_mchid,
        } => {
            let from_env = |name: Option<String>| -> Out<Option<String>> {
                name.map(|n| {
                    std::env::var(&n).map_err(|_| {
                        usage(format!(
                            "environment variable {n} is not set (or not UTF-8)"
                        ))
                    })
                })
                .transpose()
            };
            let req = AbnormalRefundRequest {
                refund_id,
                out_refund_no,
                kind: AbnormalRefundKind::from_wire(&kind),
                sub_mchid,
                bank_type,
                bank_account: from_env(bank_account_env)?,
                real_name: from_env(real_name_env)?,
            };
            println!("{}", env.client.apply_abnormal_refund(req)?.raw_json);
            Ok(0)
        }
        Command::Notification {
            action: NotificationAction::Verify { headers, body },
        } => {
            let headers = read_headers(&headers)?;
            let body = read_file(&body)?;
            let note = env.client.parse_notification(headers, body)?;
            let resource: Value = serde_json::from_str(&note.raw_json).unwrap_or(Value::Null);
            println!(
                "{}",
                json!({
                    "id": note.id, "event_type": note.event_type.as_str(),
                    "create_time": note.create_time, "resource": resource,
                })
            );
            Ok(0)
        }
        Command::Certificates {
            action: CertificatesAction::Download { out },
        } => {
            let certs = env.client.refresh_platform_certificates()?;
            if let Some(dir) = &out {
                std::fs::create_dir_all(dir)
                    .map_err(|e| usage(format!("cannot create {}: {e}", dir.display())))?;
            }
            let mut list = Vec::new();
            for c in &certs {
                let mut item = json!({
                    "serial_no": c.serial_no, "not_before": c.not_before, "not_after": c.not_after,
                });
                if let Some(dir) = &out {
                    // One PEM a certificate, named by its serial: what `platform_certificates_pem_file` takes.
                    let p = dir.join(format!("{}.pem", c.serial_no));
                    std::fs::write(&p, &c.pem)
                        .map_err(|e| usage(format!("cannot write {}: {e}", p.display())))?;
                    item["file"] = json!(p.display().to_string());
                }
                list.push(item);
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&list).unwrap_or_default()
            );
            Ok(0)
        }
        Command::Ledger { action } => ledger_command(&env, action),
        Command::Bill {
            action:
                BillAction::Download {
                    date,
                    kind,
                    gzip,
                    out,
                },
        } => {
            let req = TradeBillRequest {
                bill_date: date.clone(),
                bill_type: BillType::parse(&kind)?,
                gzip,
                sub_mchid: None,
            };
            bill::validate_bill_date(&date)?;
            let path = out
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|| {
                    format!(
                        "tradebill-{date}-{}.csv{}",
                        req.bill_type.as_str(),
                        if gzip { ".gz" } else { "" }
                    )
                });
            let file = env.client.download_bill_to(req.clone(), path.clone())?;
            let mut reader = bill::open_bill_file(&file.path)?;
            let (mut rows, mut refunds) = (0u64, 0u64);
            while let Some(r) = reader.next_row()? {
                rows += 1;
                refunds += u64::from(r.is_refund());
            }
            println!(
                "{}",
                json!({
                    "path": file.path, "bytes": file.bytes, "sha1": file.sha1, "gzip": file.gzip,
                    "rows": rows, "refund_rows": refunds,
                })
            );
            Ok(0)
        }
        Command::Reconcile { date, report } => reconcile_command(&env, &date, report.as_deref()),
    }
}

/// In sandbox mode an order must exist before it can be refunded: create it (and say so).
fn seed_order(sb: &Sandbox, out_trade_no: &str, total: i64) {
    if sb.create_order(out_trade_no.to_string(), total).is_ok() {
        eprintln!("wechatpay-refund: sandbox: created order {out_trade_no} of {total} fen");
    }
}

fn read_file(path: &Path) -> Out<Vec<u8>> {
    std::fs::read(path).map_err(|e| usage(format!("cannot read {}: {e}", path.display())))
}

/// Headers as a JSON object or `Name: value` lines.
fn read_headers(path: &Path) -> Out<std::collections::HashMap<String, String>> {
    let text = String::from_utf8(read_file(path)?)
        .map_err(|_| usage(format!("{} is not UTF-8", path.display())))?;
    if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&text) {
        return Ok(m
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
            .collect());
    }
    let mut out = std::collections::HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (k, v) = line.split_once(':').ok_or_else(|| {
            usage(format!(
                "{} line {}: expected `Name: value` (or a JSON object)",
                path.display(),
                i + 1
            ))
        })?;
        out.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Configuration

const TOP_KEYS: &[&str] = &[
    "mchid",
    "merchant_serial_no",
    "merchant_private_key_pem",
    "merchant_private_key_pem_file",
    "api_v3_key",
    "api_v3_key_env",
    "wechatpay_public_key_id",
    "wechatpay_public_key_pem",
    "wechatpay_public_key_pem_file",
    "platform_certificates_pem",
    "platform_certificates_pem_file",
    "download_platform_certificates",
    "service_provider",
    "base_url",
    "merchant_certificate_pem",
    "merchant_certificate_pem_file",
    "trust_roots_pem_file",
    "options",
];

const OPTION_KEYS: &[&str] = &[
    "backup_base_url",
    "user_agent",
    "connect_timeout_ms",
    "read_timeout_ms",
    "max_attempts",
    "deadline_ms",
    "initial_backoff_ms",
    "max_backoff_ms",
    "max_response_bytes",
    "allow_http_notify_url",
    "trust_roots_pem",
    "rate_limit",
    "replay_guard_capacity",
    "platform_trust_anchors_pem",
    "proxy",
];

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

fn closest<'a>(key: &str, valid: &[&'a str]) -> &'a str {
    valid
        .iter()
        .min_by_key(|v| distance(key, v))
        .copied()
        .unwrap_or_default()
}

fn load_config(path: &Path) -> Out<Arc<ClientConfig>> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read the configuration {shown}: {e}")))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| usage(format!("{shown}: {}", e.message())))?;
    let base = path.parent().unwrap_or(Path::new("."));
    for k in table.keys() {
        if !TOP_KEYS.contains(&k.as_str()) {
            return Err(usage(format!(
                "{shown}: unknown key `{k}` (did you mean `{}`?)",
                closest(k, TOP_KEYS)
            )));
        }
    }
    let string = |k: &str| -> Out<Option<String>> {
        match table.get(k) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(usage(format!("{shown}: `{k}` must be a string"))),
        }
    };
    let boolean = |k: &str| -> Out<bool> {
        match table.get(k) {
            None => Ok(false),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(_) => Err(usage(format!("{shown}: `{k}` must be true or false"))),
        }
    };
    let file = |p: &str| -> Out<String> {
        let full = base.join(p);
        std::fs::read_to_string(&full)
            .map_err(|e| usage(format!("{shown}: cannot read {}: {e}", full.display())))
    };
    // `X_pem` given inline or as `X_pem_file` (relative to the configuration file).
    let pem = |k: &str| -> Out<Option<String>> {
        let file_key = format!("{k}_file");
        match (string(k)?, string(&file_key)?) {
            (Some(_), Some(_)) => Err(usage(format!(
                "{shown}: give `{k}` or `{file_key}`, not both"
            ))),
            (Some(v), None) => Ok(Some(v)),
            (None, Some(p)) => Ok(Some(file(&p)?)),
            (None, None) => Ok(None),
        }
    };
    let required = |k: &str, v: Option<String>| -> Out<String> {
        v.ok_or_else(|| usage(format!("{shown}: `{k}` is required")))
    };
    let mchid = required("mchid", string("mchid")?)?;
    let serial = string("merchant_serial_no")?.unwrap_or_default();
    let key_pem = required("merchant_private_key_pem", pem("merchant_private_key_pem")?)?;
    let api_v3_key = match (string("api_v3_key")?, string("api_v3_key_env")?) {
        (Some(k), None) => k,
        (None, Some(var)) => std::env::var(&var).map_err(|_| {
            usage(format!(
                "{shown}: environment variable {var} (api_v3_key_env) is not set"
            ))
        })?,
        (Some(_), Some(_)) => {
            return Err(usage(format!(
                "{shown}: give `api_v3_key` or `api_v3_key_env`, not both"
            )))
        }
        (None, None) => {
            return Err(usage(format!(
                "{shown}: `api_v3_key_env` (the name of an environment variable) is required"
            )))
        }
    };
    let mut platform = Vec::new();
    match table.get("platform_certificates_pem") {
        None => {}
        Some(toml::Value::Array(a)) => {
            for v in a {
                platform.push(v.as_str().map(str::to_string).ok_or_else(|| {
                    usage(format!("{shown}: platform_certificates_pem: strings"))
                })?);
            }
        }
        Some(_) => {
            return Err(usage(format!(
                "{shown}: `platform_certificates_pem` must be a list of PEM strings"
            )))
        }
    }
    match table.get("platform_certificates_pem_file") {
        None => {}
        Some(toml::Value::String(p)) => platform.push(file(p)?),
        Some(toml::Value::Array(a)) => {
            for v in a {
                let p = v.as_str().ok_or_else(|| {
                    usage(format!("{shown}: platform_certificates_pem_file: paths"))
                })?;
                platform.push(file(p)?);
            }
        }
        Some(_) => {
            return Err(usage(format!(
                "{shown}: `platform_certificates_pem_file` must be a path or a list of paths"
            )))
        }
    }
    let mut options = ClientOptions::default();
    if let Some(t) = table.get("options") {
        let toml::Value::Table(t) = t else {
            return Err(usage(format!(
                "{shown}: `options` must be a table ([options])"
            )));
        };
        options = client_options(t, &shown)?;
    }
    if let Some(p) = string("trust_roots_pem_file")? {
        options.trust_roots_pem.push(file(&p)?);
    }
    let wid = string("wechatpay_public_key_id")?;
    let wpem = pem("wechatpay_public_key_pem")?;
    let config = ClientConfig::new(
        mchid,
        serial,
        key_pem,
        api_v3_key,
        wid,
        wpem,
        Vec::new(),
        platform,
        boolean("download_platform_certificates")?,
        boolean("service_provider")?,
        string("base_url")?,
        Some(options),
        pem("merchant_certificate_pem")?,
    )
    .map_err(|e| usage(format!("{shown}: {e}")))?;
    Ok(config)
}

fn client_options(t: &toml::Table, shown: &str) -> Out<ClientOptions> {
    let mut o = ClientOptions::default();
    for (k, v) in t {
        let int = || -> Out<u64> {
            v.as_integer()
                .and_then(|i| u64::try_from(i).ok())
                .ok_or_else(|| usage(format!("{shown}: options.{k} must be a whole number ≥ 0")))
        };
        let text = || -> Out<String> {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| usage(format!("{shown}: options.{k} must be a string")))
        };
        let flag = || -> Out<bool> {
            v.as_bool()
                .ok_or_else(|| usage(format!("{shown}: options.{k} must be true or false")))
        };
        let list = || -> Out<Vec<String>> {
            v.as_array()
                .and_then(|a| a.iter().map(|x| x.as_str().map(str::to_string)).collect())
                .ok_or_else(|| usage(format!("{shown}: options.{k} must be a list of strings")))
        };
        match k.as_str() {
            "backup_base_url" => o.backup_base_url = Some(text()?),
            "user_agent" => o.user_agent = Some(text()?),
            "connect_timeout_ms" => o.connect_timeout_ms = int()?,
            "read_timeout_ms" => o.read_timeout_ms = int()?,
            "max_attempts" => o.max_attempts = int()? as u32,
            "deadline_ms" => o.deadline_ms = int()?,
            "initial_backoff_ms" => o.initial_backoff_ms = int()?,
            "max_backoff_ms" => o.max_backoff_ms = int()?,
            "max_response_bytes" => o.max_response_bytes = int()?,
            "allow_http_notify_url" => o.allow_http_notify_url = flag()?,
            "trust_roots_pem" => o.trust_roots_pem = list()?,
            "rate_limit" => o.rate_limit = flag()?,
            "replay_guard_capacity" => o.replay_guard_capacity = int()? as u32,
            "platform_trust_anchors_pem" => o.platform_trust_anchors_pem = list()?,
            "proxy" => o.proxy = Some(text()?),
            other => {
                return Err(usage(format!(
                    "{shown}: unknown key `options.{other}` (did you mean `options.{}`?)",
                    closest(other, OPTION_KEYS)
                )))
            }
        }
    }
    Ok(o)
}

// ---------------------------------------------------------------------------------------------
// Batch

/// One line of the report.
#[derive(Clone)]
struct Outcome {
    out_refund_no: String,
    status: String,
    refund_id: String,
    error: String,
    accepted: bool,
}

fn state_name(s: LedgerState) -> &'static str {
    match s {
        LedgerState::InFlight => "IN_FLIGHT",
        LedgerState::Open => "OPEN",
        LedgerState::NeedsAction => "NEEDS_ACTION",
        LedgerState::Final => "FINAL",
        LedgerState::Rejected => "REJECTED",
    }
}

fn entry_json(e: &LedgerEntry) -> Value {
    json!({
        "out_refund_no": e.out_refund_no, "out_trade_no": e.out_trade_no,
        "refund": e.refund, "total": e.total,
        "status": e.status.as_ref().map(|s| s.as_str().to_string()),
        "state": state_name(e.state), "refund_id": e.refund_id, "attempts": e.attempts,
        "last_error_code": e.last_error_code, "created_at": e.created_at, "updated_at": e.updated_at,
    })
}

/// A row of the CSV as a request, or why not (with its line number).
fn parse_row(
    rec: &csv::StringRecord,
    headers: &csv::StringRecord,
    line: u64,
) -> std::result::Result<CreateRefundRequest, String> {
    let get = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .and_then(|i| rec.get(i))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let need = |name: &str| get(name).ok_or_else(|| format!("line {line}: {name} is missing"));
    let fen = |name: &str| -> std::result::Result<i64, String> {
        let v = need(name)?;
        v.parse::<i64>()
            .map_err(|_| format!("line {line}: {name} must be a whole number of fen, got {v:?}"))
    };
    let mut req = CreateRefundRequest::by_out_trade_no(
        need("out_trade_no")?,
        need("out_refund_no")?,
        fen("refund")?,
        fen("total")?,
    );
    req.reason = get("reason").map(str::to_string);
    req.notify_url = get("notify_url").map(str::to_string);
    req.sub_mchid = get("sub_mchid").map(str::to_string);
    req.funds_account = get("funds_account").map(RequestFundsAccount::from_wire);
    Ok(req)
}

fn batch(env: &Env, file: &Path, report: Option<&Path>, workers: usize, rate: f64) -> Out<i32> {
    if !(rate > 0.0 && rate.is_finite()) {
        return Err(usage(
            "--rate must be a positive number of refunds per second",
        ));
    }
    let workers = workers.clamp(1, 64);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(file)
        .map_err(|e| usage(format!("cannot read {}: {e}", file.display())))?;
    let headers = reader
        .headers()
        .map_err(|e| usage(format!("{}: {e}", file.display())))?
        .clone();
    for required in ["out_trade_no", "out_refund_no", "refund", "total"] {
        if !headers.iter().any(|h| h.trim() == required) {
            return Err(usage(format!(
                "{}: the header line has no `{required}` column (columns: out_trade_no,out_refund_no,refund,total[,reason,notify_url,sub_mchid,funds_account])",
                file.display()
            )));
        }
    }
    let mut outcomes: Vec<Option<Outcome>> = Vec::new();
    let mut work: VecDeque<(usize, CreateRefundRequest)> = VecDeque::new();
    for (i, rec) in reader.records().enumerate() {
        // The file's own line number (blank lines and quoted line breaks counted).
        let line = rec
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i as u64 + 2, |p| p.line());
        // The row's out_refund_no, when it has one, names it in the report even if the row
        // is refused.
        let mut named = String::new();
        let parsed = rec.map_err(|e| format!("line {line}: {e}")).and_then(|r| {
            if let Some(i) = headers.iter().position(|h| h.trim() == "out_refund_no") {
                named = r.get(i).unwrap_or_default().trim().to_string();
            }
            parse_row(&r, &headers, line)
        });
        match parsed {
            Ok(req) => {
                outcomes.push(None);
                work.push_back((outcomes.len() - 1, req));
            }
            Err(error) => outcomes.push(Some(Outcome {
                out_refund_no: named,
                status: "INVALID".into(),
                refund_id: String::new(),
                error,
                accepted: false,
            })),
        }
    }
    let total = outcomes.len() as u64;
    if let Some(sb) = &env.sandbox {
        for (_, r) in &work {
            if let Some(o) = &r.out_trade_no {
                seed_order(sb, o, r.amount.total);
            }
        }
    }
    let ledger = env.ledger()?;
    let progress = Progress::new(total);
    progress.add(total - work.len() as u64);
    let queue = Mutex::new(work);
    let results = Mutex::new(outcomes);
    let pace = Mutex::new(Instant::now());
    let interval = Duration::from_secs_f64(1.0 / rate);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let Some((index, req)) =
                    queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front()
                else {
                    return;
                };
                // Pacing: one start every `interval`, shared by the workers.
                let wait = {
                    let mut next = pace.lock().unwrap_or_else(|e| e.into_inner());
                    let now = Instant::now();
                    let at = (*next).max(now);
                    *next = at + interval;
                    at - now
                };
                std::thread::sleep(wait);
                let no = req.out_refund_no.clone();
                let outcome = match ledger.submit(req) {
                    Ok(e) => Outcome {
                        out_refund_no: no,
                        status: e.status.as_ref().map_or_else(
                            || state_name(e.state).to_string(),
                            |s| s.as_str().to_string(),
                        ),
                        refund_id: e.refund_id.clone().unwrap_or_default(),
                        error: e
                            .last_error_message
                            .clone()
                            .filter(|_| e.state == LedgerState::InFlight)
                            .unwrap_or_default(),
                        accepted: !matches!(e.state, LedgerState::InFlight | LedgerState::Rejected),
                    },
                    Err(err) => Outcome {
                        out_refund_no: no,
                        status: "ERROR".into(),
                        refund_id: String::new(),
                        error: err.to_string(),
                        accepted: false,
                    },
                };
                results.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(outcome);
                progress.add(1);
            });
        }
    });
    progress.finish();
    let outcomes: Vec<Outcome> = results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect();
    if let Some(path) = report {
        let mut w = csv::Writer::from_path(path)
            .map_err(|e| usage(format!("cannot write {}: {e}", path.display())))?;
        let io = |e: csv::Error| usage(format!("cannot write {}: {e}", path.display()));
        w.write_record(["out_refund_no", "status", "refund_id", "error"])
            .map_err(io)?;
        for o in &outcomes {
            w.write_record([&o.out_refund_no, &o.status, &o.refund_id, &o.error])
                .map_err(io)?;
        }
        w.flush()
            .map_err(|e| usage(format!("cannot write {}: {e}", path.display())))?;
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.accepted).collect();
    eprintln!(
        "batch: {} rows, {} accepted, {} not accepted",
        outcomes.len(),
        outcomes.len() - failed.len(),
        failed.len()
    );
    for o in failed.iter().take(20) {
        let who = if o.out_refund_no.is_empty() {
            "(row)".to_string()
        } else {
            o.out_refund_no.clone()
        };
        eprintln!("  {who}: {} {}", o.status, o.error);
    }
    if failed.len() > 20 {
        eprintln!("  … and {} more (see the report)", failed.len() - 20);
    }
    Ok(i32::from(!failed.is_empty()))
}

/// done/total, rate and ETA: a bar on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    done: Mutex<(u64, u64)>,
    total: u64,
    started: Instant,
}

impl Progress {
    fn new(total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(total);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} ETA {eta}")
            {
                b.set_style(style);
            }
            b
        });
        Self {
            bar,
            done: Mutex::new((0, 0)),
            total,
            started: Instant::now(),
        }
    }

    fn add(&self, n: u64) {
        if n == 0 {
            return;
        }
        if let Some(b) = &self.bar {
            b.inc(n);
            return;
        }
        let mut d = self.done.lock().unwrap_or_else(|e| e.into_inner());
        d.0 += n;
        // About ten lines per batch: every 10 % of the rows, and the last one.
        let step = (self.total / 10).max(1);
        if d.0 == self.total || d.0 >= d.1 + step {
            d.1 = d.0;
            let secs = self.started.elapsed().as_secs_f64().max(0.001);
            let rate = d.0 as f64 / secs;
            let eta = if rate > 0.0 {
                (self.total - d.0) as f64 / rate
            } else {
                0.0
            };
            eprintln!(
                "batch: {}/{} done, {rate:.1}/s, ETA {eta:.0}s",
                d.0, self.total
            );
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Ledger, reconciliation

fn ledger_command(env: &Env, action: LedgerAction) -> Out<i32> {
    let ledger = env.ledger()?;
    match action {
        LedgerAction::Status => {
            let mut counts = std::collections::BTreeMap::<&str, u64>::new();
            let mut after = 0;
            let mut seen = std::collections::HashSet::new();
            // Every refund the log names, once (bounded by the log).
            loop {
                let page = ledger.events(after, Some(1000))?;
                for ev in &page {
                    seen.insert(ev.out_refund_no.clone());
                }
                match page.last() {
                    Some(l) if page.len() == 1000 && l.seq > after => after = l.seq,
                    _ => break,
                }
            }
            for no in &seen {
                if let Some(e) = ledger.get(no)? {
                    *counts.entry(state_name(e.state)).or_default() += 1;
                }
            }
            let needs: Vec<Value> = ledger.needs_action()?.iter().map(entry_json).collect();
            println!("{}", json!({"by_state": counts, "needs_action": needs}));
            Ok(0)
        }
        LedgerAction::Poll => {
            let changed = ledger.poll(false)?;
            for e in &changed {
                println!("{}", entry_json(e));
            }
            eprintln!("ledger poll: {} refund(s) changed", changed.len());
            Ok(0)
        }
        LedgerAction::Events { after } => {
            for ev in ledger.events(after, Some(10_000))? {
                println!(
                    "{}",
                    json!({"seq": ev.seq, "out_refund_no": ev.out_refund_no,
                           "status": ev.status.as_str(), "at": ev.at,
                           "source": format!("{:?}", ev.source).to_lowercase()})
                );
            }
            Ok(0)
        }
    }
}

fn reconcile_command(env: &Env, date: &str, report: Option<&Path>) -> Out<i32> {
    let (from, to) = china_day_window(date)?;
    let ledger = env.ledger()?;
    let mut refunds = Vec::new();
    match env
        .client
        .for_each_bill_row(TradeBillRequest::new(date), |row| {
            if row.is_refund() {
                refunds.push(row);
            }
            Ok(())
        }) {
        Ok(_) => {}
        Err(e) if bill::is_no_statement(&e) => {
            eprintln!("reconcile: WeChat Pay has no bill for {date} (NO_STATEMENT_EXIST): reconciling against an empty bill");
        }
        Err(e) => return Err(e.into()),
    }
    let day = ledger.succeeded_between(from, to)?;
    let r = reconcile(&refunds, &day, |no| ledger.get(no))?;
    let diffs = r.differences();
    if let Some(path) = report {
        let mut w = csv::Writer::from_path(path)
            .map_err(|e| usage(format!("cannot write {}: {e}", path.display())))?;
        let io = |e: csv::Error| usage(format!("cannot write {}: {e}", path.display()));
        w.write_record(["kind", "out_refund_no", "bill", "ledger"])
            .map_err(io)?;
        for d in &diffs {
            w.write_record([d.kind, &d.out_refund_no, &d.bill, &d.ledger])
                .map_err(io)?;
        }
        w.flush()
            .map_err(|e| usage(format!("cannot write {}: {e}", path.display())))?;
    }
    println!(
        "reconcile {date}: {} matched, {} missing_in_ledger, {} missing_in_bill, {} amount_mismatch, {} status_mismatch",
        r.matched.len(),
        r.missing_in_ledger.len(),
        r.missing_in_bill.len(),
        r.amount_mismatches.len(),
        r.status_mismatches.len()
    );
    for d in &diffs {
        println!(
            "  {} {}: bill {} / ledger {}",
            d.kind, d.out_refund_no, d.bill, d.ledger
        );
    }
    Ok(i32::from(!r.is_clean()))
}
