//! Logging: human-readable lines by default, JSON by a switch.

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the global subscriber. `filter` uses the `RUST_LOG` syntax (`info`,
/// `qipan=debug,sqlx=warn`, …); sqlx's per-statement logs are kept at `warn` unless asked for.
pub fn init(format: LogFormat, filter: &str) -> Result<(), String> {
    let mut env_filter = EnvFilter::try_new(filter).map_err(|e| format!("--log `{filter}`: {e}"))?;
    if !filter.contains("sqlx") {
        env_filter = env_filter.add_directive("sqlx=warn".parse().expect("static directive"));
    }
    let builder = tracing_subscriber::fmt().with_env_filter(env_filter).with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    // A second initialisation (several commands in one test process) is harmless.
    let _ = result;
    Ok(())
}
