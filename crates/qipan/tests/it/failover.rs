//! Nothing lost when the database server goes (issue 12), on PostgreSQL clusters of the test's
//! own, started from the Debian packages that `scripts/test` installs:
//! - the server crashes (every process killed with SIGKILL: recovery from the WAL at the next
//!   start) together with `qipan serve`, while twenty clerks register people;
//! - the primary of a synchronous standby crashes the same way, the standby is promoted, and
//!   Qipan is pointed at it.
//!
//! Every registration a clerk saw acknowledged must be there afterwards, with its audit entry,
//! and the audit chain must verify. These tests start clusters of their own whatever the
//! engine of the run, so they run in the PostgreSQL pass of `scripts/test` only.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use store::DatabaseUrl;

use crate::crash::{Clerks, assert_nothing_lost, request, start};
use crate::helpers::{engine_is_postgres, install_test_audit_key};

fn pg_bin() -> PathBuf {
    PathBuf::from(std::env::var("QIPAN_TEST_PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()))
}

fn running_as_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// A PostgreSQL command run as the cluster's owner: `postgres` when the tests run as root
/// (initdb refuses root), the current user otherwise.
fn pg_command(program: &str) -> Command {
    let path = pg_bin().join(program);
    if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    }
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One cluster in a folder of the test's own, stopped (immediately) when dropped.
struct Cluster {
    data: PathBuf,
    port: u16,
}

impl Cluster {
    /// A folder the cluster's owner may write in.
    fn folder(root: &Path, name: &str) -> PathBuf {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        if running_as_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["-R", "postgres:"]).arg(root);
                    c
                },
                "chown",
            );
        }
        dir
    }

    fn conf(&self, lines: &str) {
        use std::io::Write;
        // Appended as the owner: later settings win over earlier ones.
        let mut c = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "tee", "-a"]);
            c
        } else {
            let mut c = Command::new("tee");
            c.arg("-a");
            c
        };
        let mut child = c
            .arg(self.data.join("postgresql.conf"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(lines.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success());
    }

    /// A new primary, durable as production runs it (fsync on), ready for a standby.
    fn init_primary(root: &Path) -> Cluster {
        let dir = Cluster::folder(root, "primary");
        let data = dir.join("data");
        let mut c = pg_command("initdb");
        c.arg("-D").arg(&data).args(["--auth=trust", "--username=postgres", "--encoding=UTF8", "--locale=C.UTF-8"]);
        run(c, "initdb");
        let cluster = Cluster { data, port: free_port() };
        cluster.conf(&format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\nfsync = on\n\
             wal_level = replica\nmax_wal_senders = 4\nmax_connections = 100\n",
            cluster.port,
            dir.display()
        ));
        cluster
    }

    /// A streaming standby of `primary`, cloned with `pg_basebackup`.
    fn init_standby(root: &Path, primary: &Cluster) -> Cluster {
        let dir = Cluster::folder(root, "standby");
        let data = dir.join("data");
        let mut c = pg_command("pg_basebackup");
        c.args(["-h", "127.0.0.1", "-U", "postgres", "-X", "stream", "-R", "-c", "fast"])
            .args(["-p", &primary.port.to_string()])
            .arg("-D")
            .arg(&data);
        run(c, "pg_basebackup");
        let cluster = Cluster { data, port: free_port() };
        // Promoted, it must not wait for a standby of its own that does not exist.
        cluster.conf(&format!(
            "\nport = {}\nunix_socket_directories = '{}'\nsynchronous_standby_names = ''\n",
            cluster.port,
            dir.display()
        ));
        cluster
    }

    fn start(&self) {
        let mut c = pg_command("pg_ctl");
        c.arg("-D").arg(&self.data).arg("-l").arg(self.data.with_file_name("log")).args(["-w", "-t", "60", "start"]);
        run(c, "pg_ctl start");
    }

    /// A crash: every process of the server killed at once (its children first, so that no
    /// WAL writer gets to flush what it holds), recovery from the WAL at the next start.
    fn crash(&self) {
        let pid = std::fs::read_to_string(self.data.join("postmaster.pid")).expect("a running server");
        let pid = pid.lines().next().unwrap().trim().to_owned();
        let _ = Command::new("pkill").args(["-KILL", "-P", &pid]).status();
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Command::new("kill").args(["-0", &pid]).stderr(std::process::Stdio::null()).status().unwrap().success() {
            assert!(Instant::now() < deadline, "the server outlived SIGKILL");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn promote(&self) {
        let mut c = pg_command("pg_ctl");
        c.arg("-D").arg(&self.data).args(["-w", "-t", "60", "promote"]);
        run(c, "pg_ctl promote");
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut c = pg_command("pg_ctl");
        c.arg("-D").arg(&self.data).args(["-m", "immediate", "stop"]);
        let _ = c.output();
    }
}

async fn sql(url: &str, statement: &str) -> Vec<String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let rows: Vec<String> = sqlx::query_scalar(statement).fetch_all(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    rows
}

/// A folder for the clusters and Qipan's data, removed at the end; the test installation's keys
/// installed in this process too, to read what the server wrote.
fn workspace() -> tempfile::TempDir {
    install_test_audit_key();
    let dir = tempfile::tempdir().unwrap();
    if running_as_root() {
        // The owner of the clusters must reach them through this folder.
        run(
            {
                let mut c = Command::new("chmod");
                c.arg("755").arg(dir.path());
                c
            },
            "chmod",
        );
    }
    dir
}

#[tokio::test]
async fn every_acknowledged_registration_survives_a_crash_of_the_database_server() {
    if !engine_is_postgres() {
        eprintln!("runs in the PostgreSQL pass (a cluster of its own)");
        return;
    }
    let root = workspace();
    let pg = Cluster::init_primary(root.path());
    pg.start();
    sql(&pg.url("postgres"), "CREATE DATABASE qipan").await;
    let url = pg.url("qipan");
    let data_dir = root.path().join("qipan-data");
    let (mut server, addr) = start(&data_dir, &url);
    let clerks = Clerks::start(&addr);

    clerks.wait_for_a_third();
    pg.crash();
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    let promised = clerks.join();

    pg.start();
    let (_server, addr) = start(&data_dir, &url);
    assert_eq!(request(&addr, "GET", "/healthz", &[], "").unwrap().0, 200);
    assert_nothing_lost(&DatabaseUrl::parse(&url).unwrap(), &promised).await;
}

#[tokio::test]
async fn every_acknowledged_registration_survives_a_failover_to_a_synchronous_standby() {
    if !engine_is_postgres() {
        eprintln!("runs in the PostgreSQL pass (clusters of its own)");
        return;
    }
    let root = workspace();
    let primary = Cluster::init_primary(root.path());
    // A commit returns once the standby has it on disk (the README's production settings).
    primary.conf("synchronous_standby_names = '*'\nsynchronous_commit = on\n");
    primary.start();
    let standby = Cluster::init_standby(root.path(), &primary);
    standby.start();
    let deadline = Instant::now() + Duration::from_secs(60);
    while sql(&primary.url("postgres"), "SELECT sync_state FROM pg_stat_replication").await != ["sync"] {
        assert!(Instant::now() < deadline, "the standby did not become synchronous");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sql(&primary.url("postgres"), "CREATE DATABASE qipan").await;
    let data_dir = root.path().join("qipan-data");
    let (mut server, addr) = start(&data_dir, &primary.url("qipan"));
    let clerks = Clerks::start(&addr);

    // The primary is lost while the clerks register; the standby takes over.
    clerks.wait_for_a_third();
    primary.crash();
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    let promised = clerks.join();
    standby.promote();

    let url = standby.url("qipan");
    let (_server, addr) = start(&data_dir, &url);
    assert_eq!(request(&addr, "GET", "/healthz", &[], "").unwrap().0, 200);
    assert_nothing_lost(&DatabaseUrl::parse(&url).unwrap(), &promised).await;
}

/// The active records of 滨城区 in the supervision scores, as the service reads them.
async fn active_in_county(app: &qipan::service::App, county: &qipan::service::Actor) -> u64 {
    let unit = domain::OrgCode::parse("371602").unwrap();
    let cycle = domain::exchange::Cycle::of_submission(app.clock.today());
    app.unit_scores(county, Some(&unit), cycle).await.unwrap().total.quality.expect("a reader of records").active
}

#[tokio::test]
async fn the_supervision_figures_are_read_from_the_replica_and_from_the_primary_when_it_is_down() {
    // Refused on SQLite (there is no such replica), named by its field.
    let sqlite = DatabaseUrl::parse("sqlite:/tmp/qipan-replica-refused.db").unwrap();
    if !engine_is_postgres() {
        let (app, _db) = crate::helpers::empty_app(crate::helpers::test_clock()).await;
        match app.with_read_replica(&sqlite) {
            Err(qipan::service::ServiceError::Invalid { field, .. }) => assert_eq!(field, "field.read_replica_url"),
            other => panic!("a SQLite replica: {other:?}"),
        }
        eprintln!("the replica itself is tested in the PostgreSQL pass (clusters of its own)");
        return;
    }
    let root = workspace();
    let primary = Cluster::init_primary(root.path());
    primary.start();
    let standby = Cluster::init_standby(root.path(), &primary);
    standby.start();
    sql(&primary.url("postgres"), "CREATE DATABASE qipan").await;
    let app =
        qipan::service::App::open(&DatabaseUrl::parse(&primary.url("qipan")).unwrap(), crate::helpers::test_clock())
            .await
            .unwrap();
    app.ensure_demo_data().await.unwrap();
    let app = app.with_read_replica(&DatabaseUrl::parse(&standby.url("qipan")).unwrap()).unwrap();
    let county = crate::helpers::demo_actor(&app, "county").await;
    let counted =
        "SELECT COUNT(*)::text FROM persons WHERE status = 'active' AND managing_path LIKE '/37/3716/371602/%'";
    let on_primary = sql(&primary.url("qipan"), counted).await[0].parse::<u64>().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while active_in_county(&app, &county).await != on_primary {
        assert!(Instant::now() < deadline, "the replica did not catch up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The standby stops replaying: a registration on the primary is not in the figures yet.
    sql(&standby.url("postgres"), "SELECT pg_wal_replay_pause()::text").await;
    let clerk = crate::helpers::demo_actor(&app, "clerk").await;
    let mut input = crate::worklist::woman("19910412", "周婷", "371602001001");
    input.moved_on = app.clock.today().to_string();
    app.register_person(&clerk, &input).await.unwrap();
    assert_eq!(sql(&primary.url("qipan"), counted).await[0].parse::<u64>().unwrap(), on_primary + 1);
    assert_eq!(active_in_county(&app, &county).await, on_primary, "read on the paused replica");

    // Replaying again, the replica shows it.
    sql(&standby.url("postgres"), "SELECT pg_wal_replay_resume()::text").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while active_in_county(&app, &county).await != on_primary + 1 {
        assert!(Instant::now() < deadline, "the replica did not show the registration");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The replica goes down: the figures come from the primary.
    standby.crash();
    assert_eq!(active_in_county(&app, &county).await, on_primary + 1);
    drop(sqlite);
}
