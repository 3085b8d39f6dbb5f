//! `qipan serve`: the web interface and the API.

use crate::service::sms::Gateway;
use tokio::net::TcpListener;

use super::{GlobalArgs, ServeArgs};
use crate::service::App;
use crate::web;

pub async fn run(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<()> {
    global.log_effective(&[("addr", args.addr.to_string())]);
    let app = global.open_app().await?;
    serve(app, args, global).await
}

/// Binds the address and serves until Ctrl-C or SIGTERM.
pub(super) async fn serve(app: App, args: &ServeArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    let database = global.database_url();
    // Held while serving: a restore refuses to replace a database in use.
    let _serving = crate::service::backup::hold_serving_lock(&database).map_err(|e| anyhow::anyhow!(e))?;
    let listener = TcpListener::bind(args.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {} (--addr): {e}", args.addr))?;
    let addr = listener.local_addr()?;
    println!("Qipan is serving at http://{addr}/");
    let store = app.store.clone();
    let jobs = tokio::spawn(run_jobs(app.clone(), global.audit_anchors()));
    let backups = (args.backup_every_hours > 0).then(|| {
        let policy = super::backup::policy(
            global,
            args.backup_dir.as_deref(),
            args.backup_keep as usize,
            args.backup_hook.as_deref(),
        );
        tracing::info!(dir = %policy.dir.display(), every_hours = args.backup_every_hours, keep = policy.keep, "scheduled backups");
        let every = std::time::Duration::from_secs(u64::from(args.backup_every_hours) * 3600);
        tokio::spawn(super::backup::schedule(app.clone(), database.clone(), policy, every))
    });
    let service =
        web::router_with(app, args.web_config()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown_signal()).await?;
    jobs.abort();
    if let Some(backups) = backups {
        backups.abort();
    }
    store.close().await;
    Ok(())
}

/// The scheduled jobs, each on its own timer so that a slow SMS gateway never delays the
/// overdue marks: overdue marking every 10 minutes (idempotent, so running it often only makes
/// a mark appear sooner after midnight) with the key-person reclassification once a day,
/// notifications every 30 seconds; with the overdue marks, the audit chain's head is written out
/// of the database to the anchors file.
async fn run_jobs(app: App, anchors: std::path::PathBuf) {
    let overdue = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
            let mut last_reclassified = None;
            loop {
                tick.tick().await;
                if let Err(e) = app.run_overdue_job().await {
                    tracing::error!(error = %e, "the overdue job failed");
                }
                match app.audit_anchor().await.map_err(anyhow::Error::from) {
                    Ok(anchor) => {
                        if let Err(e) = super::audit::append_anchor(&anchors, &anchor) {
                            tracing::error!(error = %e, "cannot write the audit anchor");
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "cannot read the audit head"),
                }
                // Once a day (and at start): key persons whose reasons change with the date.
                let today = app.clock.today();
                if last_reclassified != Some(today) {
                    match app.reclassify_key_persons().await {
                        Ok(n) => {
                            tracing::info!(n, "key persons reclassified");
                            last_reclassified = Some(today);
                        }
                        Err(e) => tracing::error!(error = %e, "the key-person reclassification failed"),
                    }
                    match app.repair_worklist_units().await {
                        Ok(n) => tracing::info!(n, "sections of the clerk's day checked against their units"),
                        Err(e) => tracing::error!(error = %e, "checking the units of the sections failed"),
                    }
                    match app.repair_tasks(false).await {
                        Ok(r) => tracing::info!(
                            persons = r.checked,
                            tasks = r.written,
                            "the clerk's day derived again for every person with work"
                        ),
                        Err(e) => tracing::error!(error = %e, "the nightly repair of the clerk's day failed"),
                    }
                    match app.queue_quality_recheck(false).await {
                        Ok(n) => tracing::info!(n, "records queued for the nightly data-quality re-check"),
                        Err(e) => tracing::error!(error = %e, "queueing the data-quality re-check failed"),
                    }
                    match app.build_rollups(false).await {
                        Ok(b) if b.differed > 0 => tracing::warn!(
                            months = b.built.len(),
                            differed = b.differed,
                            "report roll-ups built again differed from those kept: a write did not queue its unit"
                        ),
                        Ok(b) => tracing::info!(months = b.built.len(), rows = b.rows, "report roll-ups built"),
                        Err(e) => tracing::error!(error = %e, "building the report roll-ups failed"),
                    }
                    match app.freeze_due_reports().await {
                        Ok(n) => tracing::info!(n, "monthly reports frozen after their deadline"),
                        Err(e) => tracing::error!(error = %e, "freezing the monthly reports failed"),
                    }
                }
            }
        })
    };
    // The data-quality findings follow the writes within a minute (a page checks what waits
    // before it reads; this drains bulk loads and the nightly re-check in the background).
    {
        let app = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match app.refresh_quality(u64::MAX).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(n, "records checked for data quality"),
                    Err(e) => tracing::error!(error = %e, "the data-quality refresh failed"),
                }
            }
        });
    }
    // The clerk's day follows the writes within seconds (the day derives what waits before it
    // reads; this drains bulk loads and writes nobody has looked at yet).
    {
        let app = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match app.refresh_tasks(u64::MAX).await {
                    Ok(r) if r.checked == 0 => {}
                    Ok(r) => tracing::debug!(persons = r.checked, "the clerk's day derived for changed persons"),
                    Err(e) => tracing::error!(error = %e, "deriving the clerk's day failed"),
                }
                // The report roll-ups of the units whose records changed.
                match app.refresh_rollups(u64::MAX).await {
                    Ok(r) if r.units == 0 => {}
                    Ok(r) => tracing::debug!(units = r.units, rows = r.moved, "report roll-ups moved"),
                    Err(e) => tracing::error!(error = %e, "moving the report roll-ups failed"),
                }
            }
        });
    }
    match Gateway::from_env() {
        Ok(gateway) => {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = app.dispatch_notifications(&gateway).await {
                    tracing::error!(error = %e, "the notification dispatcher failed");
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "notifications stay queued: the SMS gateway is misconfigured");
            let _ = overdue.await;
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
