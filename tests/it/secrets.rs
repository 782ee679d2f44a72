//! Secrets and private data stay private (issue 15, items 4, 5 and 8): passwords in database URLs are masked
//! wherever they are printed, logged or shown; the SMTP password never crosses the network in clear; the files
//! of the data folder are the service user's alone, whatever the umask.

use crate::common;
use crate::support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Db, TestEnv};
use support::auth_smtp::AuthSmtp;

const URL_PASSWORD: &str = "Url-Pass-1f2e3d";
const QUERY_PASSWORD: &str = "Query-Pass-9a8b7c";
const SMTP_PASSWORD: &str = "Smtp-Pass-5c6d7e";
const SIGNING_KEY: &str = "Signing-Key-0123456789abcdef0123456789";

fn ok(env: &TestEnv, args: &[&str]) -> String {
    let (code, out, err) = env.run(args);
    assert_eq!(code, 0, "outreach {args:?} failed: {err}");
    out
}

/// The test database's URL with a password in its user info and another as `?password=` (the test server
/// trusts local connections, so both are ignored, but the program sees and must hide them).
fn with_passwords(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (user, host) = rest.split_once('@').unwrap();
    format!("{scheme}://{user}:{URL_PASSWORD}@{host}?sslmode=disable&password={QUERY_PASSWORD}")
}

fn assert_hidden(what: &str, text: &str) {
    for secret in [URL_PASSWORD, QUERY_PASSWORD, SMTP_PASSWORD, SIGNING_KEY] {
        assert!(!text.contains(secret), "{what} shows {secret}:\n{text}");
    }
}

/// A member and a newsletter sent now: the next `send-due` has one mail to send.
fn one_mail_due(env: &TestEnv) {
    let file = env.write(
        "m.csv",
        "email,company,contact_name,themes,locale\nsecret@example.co.jp,株式会社秘密,担当,telework,ja\n",
    );
    ok(env, &["members", "import", &file]);
    let (code, out, err) = env.create_campaign("telework", "newsletter", &["--cron", "0 9 * * *"]);
    assert_eq!(code, 0, "{err}");
    let id = out.split_whitespace().find_map(|w| w.parse::<i64>().ok()).unwrap();
    ok(env, &["campaign", "send-now", &id.to_string()]);
}

/// `outreach serve` until its start line, which is returned with everything logged before it; the process is
/// handed back running, its standard output going to `out`.
fn serve_until_started(mut command: Command, out: &Path) -> (std::process::Child, String) {
    let out = std::fs::File::create(out).unwrap();
    let mut serve = command.stdout(out).stderr(Stdio::piped()).spawn().unwrap();
    let mut logged = String::new();
    for line in BufReader::new(serve.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        logged.push_str(&line);
        logged.push('\n');
        if line.contains("serving") {
            return (serve, logged);
        }
    }
    let _ = serve.wait();
    panic!("serve ended before its start line:\n{logged}");
}

// ---- item 4: one redaction for every URL that is printed or shown ----

#[tokio::test]
async fn a_mistyped_scheme_does_not_print_the_password() {
    let mut env = TestEnv::new(Db::Sqlite).await.unwrap();
    env.set(
        "OUTREACH_DATABASE__URL",
        format!("postgress://postgres:{URL_PASSWORD}@127.0.0.1:5432/test?password={QUERY_PASSWORD}"),
    );
    let (code, out, err) = env.run(&["init"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("database.url") && err.contains("postgress://postgres:***@127.0.0.1"),
        "{err}"
    );
    assert_hidden("the configuration error", &format!("{out}{err}"));
}

both_backends!(secrets_are_hidden_at_every_log_level, |mut env: TestEnv| async move {
    if env.db == Db::Postgres {
        env.url = with_passwords(&env.url);
    }
    env.set("OUTREACH_LOG", "trace")
        .set("OUTREACH_SMTP__PASSWORD", SMTP_PASSWORD)
        .set("OUTREACH_WEB__SIGNING_KEY", SIGNING_KEY);
    let (code, out, err) = env.run(&["init"]);
    assert_eq!(code, 0, "{err}");
    assert_hidden("init", &format!("{out}{err}"));
    if env.db == Db::Postgres {
        assert!(out.contains("ready: postgres://postgres:***@"), "{out}");
        assert!(out.contains("password=***"), "{out}");
    }

    let out = env.path().join("serve.out");
    let (mut serve, logged) = serve_until_started(env.command(&["serve"]), &out);
    let _ = serve.kill();
    let _ = serve.wait();
    assert_hidden("serve's logs", &logged);
    let said = std::fs::read_to_string(&out).unwrap();
    assert!(said.contains("listening on"), "{said}");
    assert_hidden("serve's output", &said);
    let start = logged.lines().find(|l| l.contains("serving")).unwrap();
    if env.db == Db::Postgres {
        assert!(start.contains("database=postgres://postgres:***@"), "{start}");
    }

    let site = support::staff_site::plain(&mut env, &[]).await;
    let admin = site.sign_in("admin@example.org").await;
    let (status, html) = site.get(&admin, "/admin/config").await;
    assert_eq!(status, 200);
    assert_hidden("/admin/config", &html);
    if env.db == Db::Postgres {
        assert!(html.contains("postgres://postgres:***@"), "{html}");
    }
});

// ---- item 5: SMTP authentication only over TLS ----

both_backends!(
    the_smtp_password_never_goes_out_in_clear,
    |mut env: TestEnv| async move {
        ok(&env, &["init"]);
        one_mail_due(&env);
        let server = AuthSmtp::start();
        env.set("OUTREACH_DELIVERY__TRANSPORT", "smtp")
            .set("OUTREACH_SMTP__HOST", "127.0.0.1")
            .set("OUTREACH_SMTP__PORT", server.port().to_string())
            .set("OUTREACH_SMTP__TIMEOUT_SECS", "5")
            .set("OUTREACH_SMTP__USERNAME", "relay-user")
            .set("OUTREACH_SMTP__PASSWORD", SMTP_PASSWORD)
            .set("OUTREACH_SMTP__SECURITY", "none")
            // The STARTTLS attempt below puts the mail back for a retry about a second later.
            .set("OUTREACH_DELIVERY__RETRY_BASE_SECS", "1");

        // Refused at start, before any connection, in one line naming the keys.
        let (code, _, err) = env.run(&["send-due"]);
        assert_eq!(code, 2, "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(
            err.contains("smtp.username") && err.contains("smtp.security") && err.contains("smtp.allow_plaintext_auth"),
            "{err}"
        );
        assert!(server.commands().is_empty(), "{:?}", server.commands());

        // STARTTLS that the server does not offer: nothing is sent, least of all AUTH.
        env.set("OUTREACH_SMTP__SECURITY", "starttls");
        let (code, _, err) = env.run(&["send-due"]);
        assert_ne!(code, 2, "{err}");
        assert!(!server.saw_auth(), "{:?}", server.commands());
        assert!(server.messages().is_empty());

        // A relay on this machine, allowed on purpose: it works.
        env.set("OUTREACH_SMTP__SECURITY", "none")
            .set("OUTREACH_SMTP__ALLOW_PLAINTEXT_AUTH", "true");
        let mut sent = false;
        for _ in 0..10 {
            let (code, out, err) = env.run(&["send-due"]);
            assert_eq!(code, 0, "{err}");
            if out.contains("sent 1,") {
                sent = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        assert!(sent, "{:?}", server.commands());
        assert!(server.saw_auth(), "{:?}", server.commands());
        assert_eq!(server.messages().len(), 1);
    }
);

// ---- item 8: the data folder is private, whatever the umask ----

/// The command, run by `sh` under umask 022 (the usual default, which leaves new files readable by all).
fn under_umask_022(command: &Command) -> Command {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg("umask 022; exec \"$0\" \"$@\"")
        .arg(command.get_program())
        .args(command.get_args())
        .env_clear();
    if let Some(dir) = command.get_current_dir() {
        sh.current_dir(dir);
    }
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            sh.env(key, value);
        }
    }
    sh
}

fn run_under_umask_022(env: &TestEnv, args: &[&str]) -> String {
    let output = under_umask_022(&env.command(args)).output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "outreach {args:?} failed: {err}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Everything under `dir` (itself included) with its permission bits.
fn modes(dir: &Path) -> BTreeMap<PathBuf, (bool, u32)> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        found.insert(path.clone(), (meta.is_dir(), meta.permissions().mode() & 0o777));
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
        }
    }
    found
}

fn assert_private(dir: &Path) -> BTreeMap<PathBuf, (bool, u32)> {
    let found = modes(dir);
    let open: Vec<String> = found
        .iter()
        .filter(|(_, (is_dir, mode))| *mode != if *is_dir { 0o700 } else { 0o600 })
        .map(|(path, (_, mode))| format!("{} {mode:o}", path.display()))
        .collect();
    assert!(open.is_empty(), "not private: {open:?}");
    found
}

/// Everything in one data folder (`DIR/data`), as an installation has it.
fn in_data_folder(env: &mut TestEnv) -> PathBuf {
    let data = env.path().join("data");
    env.set("OUTREACH_DATA_DIR", data.display().to_string())
        .set("OUTREACH_DELIVERY__OUTBOX", "outbox")
        .set("OUTREACH_WEB__SIGNING_KEY_FILE", "signing.key");
    if env.db == Db::Sqlite {
        env.set("OUTREACH_DATABASE__URL", "sqlite://outreach.db");
    }
    data
}

both_backends!(files_are_private_whatever_the_umask, |mut env: TestEnv| async move {
    let data = in_data_folder(&mut env);
    run_under_umask_022(&env, &["init"]);
    one_mail_due(&env);
    let out = run_under_umask_022(&env, &["send-due"]);
    assert!(out.contains("sent 1,"), "{out}");
    let found = assert_private(&data);
    let names: Vec<String> = found
        .keys()
        .map(|p| p.strip_prefix(&data).unwrap().display().to_string())
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("outbox/") && n.ends_with(".eml")),
        "{names:?}"
    );
    assert!(names.contains(&"signing.key".to_owned()), "{names:?}");

    // While the database is open, SQLite's own files are there too, with the database's mode.
    env.set("OUTREACH_LOG", "info");
    let out = env.path().join("serve.out");
    let (mut serve, _) = serve_until_started(under_umask_022(&env.command(&["serve"])), &out);
    let found = modes(&data);
    let _ = serve.kill();
    let _ = serve.wait();
    if env.db == Db::Sqlite {
        for name in ["outreach.db", "outreach.db-wal", "outreach.db-shm"] {
            assert_eq!(found.get(&data.join(name)), Some(&(false, 0o600)), "{name}: {found:?}");
        }
    }
    assert_private(&data);
});

both_backends!(init_tightens_an_existing_data_folder, |mut env: TestEnv| async move {
    let data = in_data_folder(&mut env);
    run_under_umask_022(&env, &["init"]);
    one_mail_due(&env);
    run_under_umask_022(&env, &["send-due"]);
    // As an earlier version (or a hand) left it: everything readable by every user.
    for (path, (is_dir, _)) in modes(&data) {
        let mode = if is_dir { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    let out = run_under_umask_022(&env, &["init"]);
    assert!(out.contains("made the data folder private"), "{out}");
    assert!(out.contains(&data.display().to_string()), "{out}");
    assert_private(&data);
    // Once private, init has nothing to say about it.
    let out = run_under_umask_022(&env, &["init"]);
    assert!(!out.contains("private"), "{out}");
});
