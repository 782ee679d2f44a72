//! Test environments on both backends: a fresh SQLite file or a fresh PostgreSQL database per test, so tests
//! run in parallel. PostgreSQL tests read OUTREACH_TEST_POSTGRES_URL; under CI a missing variable fails them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use outreach::Application;
use outreach::clock::Clock;
use outreach::config::Settings;
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

impl Db {
    /// A tag unique to this backend and test process, so tests sharing an external server (its capture folder)
    /// never count each other's mail.
    pub fn tag(self) -> String {
        let backend = match self {
            Db::Sqlite => "sqlite",
            Db::Postgres => "pg",
        };
        format!("{backend}.{}", std::process::id())
    }
}

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub db: Db,
    extra: Vec<(String, String)>,
}

/// Runs `$body` once per backend, as tests named `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let env = common::TestEnv::new(common::Db::Sqlite)
                    .await
                    .expect("sqlite env");
                ($body)(env).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(env) = common::TestEnv::new(common::Db::Postgres).await else {
                    return;
                };
                ($body)(env).await;
            }
        }
    };
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn postgres_base_url() -> Option<String> {
    match std::env::var("OUTREACH_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI is set but OUTREACH_TEST_POSTGRES_URL is not: the PostgreSQL tests must run in CI")
        }
        _ => {
            eprintln!("OUTREACH_TEST_POSTGRES_URL not set: PostgreSQL variant not run");
            None
        }
    }
}

impl TestEnv {
    pub async fn new(db: Db) -> Option<Self> {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = match db {
            Db::Sqlite => format!("sqlite://{}/outreach.db", dir.path().display()),
            Db::Postgres => {
                let base = postgres_base_url()?;
                let name = format!("outreach_test_{}", rand_suffix());
                let mut conn = sqlx::PgConnection::connect(&base)
                    .await
                    .expect("connect to OUTREACH_TEST_POSTGRES_URL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let (prefix, _) = base
                    .split('?')
                    .next()
                    .unwrap_or(&base)
                    .rsplit_once('/')
                    .expect("URL with a path");
                format!("{prefix}/{name}")
            }
        };
        Some(Self {
            dir,
            url,
            db,
            extra: Vec::new(),
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Adds an environment variable for the binary and for `settings()`.
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.extra.push((key.to_owned(), value.into()));
        self
    }

    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("OUTREACH_DATABASE__URL".to_owned(), self.url.clone()),
            ("OUTREACH_DATABASE__MAX_CONNECTIONS".to_owned(), "4".to_owned()),
            (
                "OUTREACH_TEMPLATES__DIR".to_owned(),
                repo().join("templates/email").display().to_string(),
            ),
            (
                "OUTREACH_WEB__SIGNING_KEY_FILE".to_owned(),
                self.path().join("signing.key").display().to_string(),
            ),
            (
                "OUTREACH_DELIVERY__OUTBOX".to_owned(),
                self.path().join("outbox").display().to_string(),
            ),
            ("OUTREACH_LOG".to_owned(), "warn".to_owned()),
            // Tests send over SMTP with the default http://localhost base URL.
            ("OUTREACH_WEB__ALLOW_HTTP".to_owned(), "true".to_owned()),
            // Several `serve` at once on one machine: each listens on a free port.
            ("OUTREACH_WEB__BIND".to_owned(), "127.0.0.1:0".to_owned()),
        ];
        env.extend(self.extra.iter().cloned());
        env
    }

    pub fn settings(&self) -> Settings {
        Settings::load_from(None, self.env()).expect("test settings")
    }

    pub async fn app(&self, clock: Arc<dyn Clock>) -> Application {
        let app = Application::open(self.settings(), clock)
            .await
            .expect("open application");
        app.init(&tester()).await.expect("init");
        app
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_outreach"));
        cmd.args(args)
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs the real binary and returns (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let Output { status, stdout, stderr } = self.command(args).output().expect("run outreach");
        (
            status.code().unwrap_or(-1),
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        )
    }

    /// Standard output as bytes (exports in Shift_JIS), with the exit code and standard error.
    pub fn run_bytes(&self, args: &[&str]) -> (i32, Vec<u8>, String) {
        let Output { status, stdout, stderr } = self.command(args).output().expect("run outreach");
        (
            status.code().unwrap_or(-1),
            stdout,
            String::from_utf8_lossy(&stderr).into_owned(),
        )
    }

    /// `outreach campaign create` for `theme` on `channel`, then the schedule (`--cron EXPR`, `--at T`, bounds…).
    pub fn create_campaign(&self, theme: &str, channel: &str, schedule: &[&str]) -> (i32, String, String) {
        let mut args = vec![
            "campaign",
            "create",
            "--name",
            "テスト配信",
            "--theme",
            theme,
            "--channel",
            channel,
        ];
        args.extend_from_slice(schedule);
        self.run(&args)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.path().join(name);
        std::fs::write(&path, contents).expect("write test file");
        path.display().to_string()
    }
}

/// Runs SQL straight on the test database, as someone with database access would (triggers and all).
pub async fn execute(env: &TestEnv, sql: &str) -> Result<(), String> {
    let result = match env.db {
        Db::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&env.url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await
                .map(|_| ())
        }
        Db::Postgres => {
            let mut c = sqlx::PgConnection::connect(&env.url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await
                .map(|_| ())
        }
    };
    result.map_err(|e| e.to_string())
}

/// One integer from the test database (a count, an id).
pub async fn scalar(env: &TestEnv, sql: &str) -> i64 {
    use sqlx::Row;
    match env.db {
        Db::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&env.url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .get(0)
        }
        Db::Postgres => {
            let mut c = sqlx::PgConnection::connect(&env.url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .get(0)
        }
    }
}

/// Runs the independent verifier of the audit log (`tools/verify-log.py`, Python's standard library only) in
/// `dir`.
pub fn verify_log(args: &[&str], dir: &Path) -> Output {
    Command::new("python3")
        .arg(repo().join("tools/verify-log.py"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("python3 runs")
}

/// The operator the tests act as.
pub fn tester() -> outreach::domain::Actor {
    outreach::domain::Actor::operator("tester@example.org")
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}_{}", std::process::id(), nanos % 1_000_000_000_000)
}
