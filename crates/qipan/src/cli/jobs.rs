//! `qipan jobs run JOB`: the scheduled jobs, run once from the console (cron, or by hand). The
//! server runs the same jobs on its own schedule (see `serve`).

use super::GlobalArgs;
use crate::service::exchange::JobOutcome;
use crate::service::sms::Gateway;

pub async fn run(global: &GlobalArgs, job: &str) -> anyhow::Result<()> {
    let app = global.open_app().await?;
    match job {
        "overdue" => match app.run_overdue_job().await.map_err(|e| anyhow::anyhow!(super::english(&e)))? {
            JobOutcome::Marked(n) => println!("overdue: {n} item(s) marked overdue"),
            JobOutcome::ClockBehind { last_run, now } => anyhow::bail!(
                "overdue: refused — the clock ({now}) stands before the last run ({last_run}); nothing was marked. \
                 Check QIPAN_CLOCK or the system clock."
            ),
        },
        "notifications" => {
            let gateway = Gateway::from_env().map_err(|e| anyhow::anyhow!(e))?;
            let d = app.dispatch_notifications(&gateway).await.map_err(|e| anyhow::anyhow!(super::english(&e)))?;
            println!(
                "notifications ({}): {} sent, {} to retry, {} failed",
                gateway.channel(),
                d.sent,
                d.retrying,
                d.failed
            );
        }
        "keypersons" => {
            let n = app.reclassify_key_persons().await.map_err(|e| anyhow::anyhow!(super::english(&e)))?;
            println!("keypersons: {n} record(s) reclassified");
        }
        "sections" => {
            let n = app.repair_worklist_units().await.map_err(|e| anyhow::anyhow!(super::english(&e)))?;
            println!("sections: {n} section row(s) had another unit than their record and were repaired");
        }
        "tasks" => {
            let r = app.repair_tasks(true).await.map_err(|e| anyhow::anyhow!(super::english(&e)))?;
            println!(
                "tasks: {} person(s) derived again, {} task(s) kept, {} person(s) whose tasks had to change",
                r.checked, r.written, r.differed
            );
        }
        "quality" => {
            let queued = app.queue_quality_recheck(true).await.map_err(|e| anyhow::anyhow!(super::english(&e)))?;
            let checked = app.refresh_quality(u64::MAX).await.map_err(|e| anyhow::anyhow!(super::english(&e)))?;
            println!("quality: {queued} record(s) queued for the re-check, {checked} checked");
        }
        "rollups" => {
            let english = |e| anyhow::anyhow!(super::english(&e));
            // What the writes queued first, so that the months built again compare with it.
            app.refresh_rollups(u64::MAX).await.map_err(english)?;
            let b = app.build_rollups(true).await.map_err(english)?;
            let r = app.refresh_rollups(u64::MAX).await.map_err(english)?;
            println!(
                "rollups: {} month(s) built ({} row(s)), {} dropped, {} row(s) that had to change, {} unit(s) grouped again",
                b.built.len(),
                b.rows,
                b.dropped.len(),
                b.differed,
                r.units
            );
        }
        "snapshots" => {
            let n = app.freeze_due_reports().await.map_err(|e| anyhow::anyhow!(super::english(&e)))?;
            println!("snapshots: {n} report(s) frozen");
        }
        other => {
            anyhow::bail!(
                "no job `{other}`: the jobs are `overdue`, `notifications`, `keypersons`, `sections`, `tasks`, `quality`, `rollups` and `snapshots`"
            )
        }
    }
    app.store.close().await;
    Ok(())
}
