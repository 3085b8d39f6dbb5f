//! Use cases. Every request from the web layer or the command line goes through [`App`], which
//! owns the store and the clock. Authorization and the audit log will live here too, so that
//! no handler ever decides them on its own.

mod accounts;
mod actor;
mod audit;
mod auth;
pub mod backup;
mod calendar;
mod case;
mod codes;
mod error;
pub mod exchange;
pub mod factors;
mod glass;
mod import;
mod orgs;
mod persons;
pub mod policy;
pub mod privacy;
mod quality;
pub mod reports;
pub mod rollups;
pub mod secrets;
mod sections;
pub mod sms;
pub mod supervision;
pub mod worklist;

pub mod orgs_limits {
    //! Paging and search limits, shared with the API description.
    pub use super::orgs::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_QUERY_CHARS};
}

use domain::Clock;
use store::{DatabaseUrl, Store};

pub use accounts::{AccountAction, AccountForm, ActionDone, parse_roles};
pub use actor::{Actor, RecordScope, Via};
pub use audit::{ChainReport, MIN_RETENTION_DAYS};
pub use auth::{
    ABSOLUTE_TIMEOUT_HOURS, ADMIN_FACTOR_SETTING, DEFAULT_TOKEN_DAYS, IDLE_TIMEOUT_MINUTES, LOCKOUT_MINUTES,
    MAX_FAILED_LOGINS, MAX_TOKEN_DAYS, NewSession,
};
pub use case::Timeline;
pub use codes::CodeRequest;
pub use error::{ServiceError, ServiceResult};
pub use import::{DIVISION_FILES_HINT, read_division_dir};
pub use orgs::{Listing, OrgQuery, RawOrgQuery};
pub use persons::{PersonQuery, PersonRefusal, PersonView};
pub use quality::{QualityFinding, QualityReport};
pub use sections::FullRecord;

/// The application: the store, the clock, and the use cases over them.
#[derive(Debug, Clone)]
pub struct App {
    pub store: Store,
    pub clock: Clock,
    /// A read-only copy of the database (a PostgreSQL streaming standby) for the supervision
    /// figures, when one is configured: the province's heaviest reads off the primary.
    pub replica: Option<Replica>,
}

/// A read replica of the database, and when it may be tried again after a failure.
#[derive(Debug, Clone)]
pub struct Replica {
    pub store: Store,
    resting_until: std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

/// After a failure the replica is left alone this long: a replica down costs one failed read
/// per half minute, not one per figure.
const REPLICA_REST: std::time::Duration = std::time::Duration::from_secs(30);

impl Replica {
    pub fn usable(&self) -> bool {
        let until = *self.resting_until.lock().unwrap_or_else(|e| e.into_inner());
        until.is_none_or(|u| std::time::Instant::now() >= u)
    }

    pub fn rest(&self) {
        *self.resting_until.lock().unwrap_or_else(|e| e.into_inner()) = Some(std::time::Instant::now() + REPLICA_REST);
    }
}

/// Runs a read of the supervision figures on the read replica when there is one that has not
/// just failed, and on the primary otherwise (a replica down slows one read per half minute,
/// never stops supervision).
macro_rules! figures {
    ($app:expr, |$s:ident| $read:expr) => {{
        match $app.replica.as_ref().filter(|r| r.usable()) {
            Some(replica) => {
                let $s = &replica.store;
                match $read.await {
                    Ok(v) => Ok(v),
                    Err(e) => {
                        replica.rest();
                        tracing::warn!(error = %e, "the read replica failed: the supervision figures are read from the primary for a while");
                        let $s = &$app.store;
                        $read.await
                    }
                }
            }
            None => {
                let $s = &$app.store;
                $read.await
            }
        }
    }};
}
pub(crate) use figures;

impl App {
    /// Opens the database and brings its schema up to date.
    pub async fn open(url: &DatabaseUrl, clock: Clock) -> ServiceResult<App> {
        let store = Store::connect(url).await?;
        let applied = store.migrate().await?;
        if applied > 0 {
            tracing::info!(applied, engine = store.engine().as_str(), "applied database migrations");
        }
        store.seed_codes(clock.now()).await?;
        let calendar = domain::calendar::WorkCalendar::parse_csv(domain::calendar::SHIPPED_CSV)
            .expect("the shipped calendar parses (a unit test checks it)");
        let added = store.seed_calendar(&calendar, clock.now()).await?;
        if added > 0 {
            tracing::info!(added, "added the announced holidays of new years to the working-day calendar");
        }
        let filled = store.fill_org_pinyin().await?;
        if filled > 0 {
            tracing::info!(filled, "indexed the pinyin of org unit names");
        }
        // Appending to a keyed chain without its key would break the chain for good.
        let ((_, head_hash), _) = store.audit_head().await?;
        if head_hash.starts_with(domain::audit::KEYED) && domain::audit::installed_key().is_none() {
            return Err(ServiceError::AuditKeyMissing);
        }
        // A bulk load cut short left the records' indexes to build.
        let rebuilt = store.build_deferred_indexes().await?;
        if rebuilt > 0 {
            tracing::warn!(rebuilt, "built again the indexes that an interrupted bulk load had deferred");
        }
        // Names indexed by an earlier form of the index are indexed again, before any search.
        let reindexed = store.upgrade_name_index(10_000).await?;
        if reindexed > 0 {
            tracing::info!(reindexed, "indexed the records' names again (bigrams, decision 0026)");
        }
        let app = App { store, clock, replica: None };
        app.adopt_data_keys().await?;
        Ok(app)
    }

    /// The same installation seen at another moment (tests, training, the bench).
    pub fn at_clock(&self, clock: Clock) -> App {
        App { clock, ..self.clone() }
    }

    /// Reads the supervision figures from a read replica of the database (PostgreSQL only; the
    /// primary must be PostgreSQL too). The replica is not migrated (a streaming standby follows
    /// the primary's schema) and is connected on first use: one that is down does not keep the
    /// installation from starting.
    pub fn with_read_replica(mut self, url: &store::DatabaseUrl) -> ServiceResult<App> {
        if !matches!(url, store::DatabaseUrl::Postgres(_)) || !matches!(self.store, Store::Postgres(_)) {
            return Err(ServiceError::invalid("field.read_replica_url", "rule.replica_postgres", url.redacted()));
        }
        self.replica = Some(Replica { store: Store::connect_replica(url)?, resting_until: Default::default() });
        Ok(self)
    }

    /// Checks the installed data keys against those this database's values are sealed under
    /// (a wrong or missing key is refused before anything is written with it), records new
    /// ones. An unfinished sealing pass is the caller's to finish (the CLI does, with progress).
    async fn adopt_data_keys(&self) -> ServiceResult<()> {
        let ring = store::seal::keyring()
            .map_err(|_| ServiceError::DataKeys("no data keys were given (the key file, or QIPAN_DATA_KEYS)".into()))?;
        let recorded = self.store.recorded_keys().await?;
        for k in &recorded {
            match ring.fingerprint(&k.id) {
                Some(fp) if fp == k.fingerprint => {}
                Some(_) => {
                    return Err(ServiceError::DataKeys(format!(
                        "key {} of the key file given is not the key {} this database was sealed with: restore the right key file",
                        k.id, k.id
                    )));
                }
                None if k.retired_at.is_some() => {}
                None => {
                    return Err(ServiceError::DataKeys(format!(
                        "values of this database are sealed under data key {}, which the key file given lacks",
                        k.id
                    )));
                }
            }
        }
        for id in ring.ids() {
            if !recorded.iter().any(|k| k.id == id) {
                let fp = ring.fingerprint(&id).expect("an id of the ring");
                self.store.record_key(&id, &fp, self.clock.now()).await?;
            }
        }
        Ok(())
    }

    /// Answers when the database answers.
    pub async fn health(&self) -> ServiceResult<()> {
        Ok(self.store.ping().await?)
    }
}
