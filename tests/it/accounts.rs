//! Accounts and API tokens through the binary, on both backends: `user add` with the password on standard
//! input (refused when short, common or for an address already taken), the role and state changes that end
//! sessions, and tokens shown once and stored only as hashes.

use crate::common;

use std::io::Write;
use std::process::Stdio;

use common::TestEnv;
use sqlx::Connection;

/// Runs the binary with `input` on standard input.
fn run_with_input(env: &TestEnv, args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = env
        .command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

both_backends!(users_are_added_changed_and_listed, |env: TestEnv| async move {
    assert_eq!(env.run(&["init"]).0, 0);
    let add = |email: &str, password: &str| {
        run_with_input(
            &env,
            &["user", "add", "--role", "staff", email, "--password-stdin"],
            &format!("{password}\n"),
        )
    };
    let (code, out, err) = add("Sato@Example.org", "correct horse battery");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "sato@example.org: staff account created\n");

    // Refusals name why, exit 1, and store nothing.
    let (code, _, err) = add("short@example.org", "tooshort");
    assert_eq!(
        (code, err.trim()),
        (1, "error: the password is 8 characters long; it must have at least 12")
    );
    let (code, _, err) = add("common@example.org", "Password1234");
    assert!(code == 1 && err.contains("most common passwords"), "{err}");
    let (code, _, err) = add("SATO@example.org", "another good passphrase");
    assert!(
        code == 1 && err.contains("already is an account for sato@example.org"),
        "{err}"
    );
    // Without a terminal and without --password-stdin there is nobody to ask.
    let (code, _, err) = env.run(&["user", "add", "--role", "auditor", "a@example.org"]);
    assert!(code == 1 && err.contains("--password-stdin"), "{err}");
    let (code, _, err) = env.run(&["user", "add", "--role", "root", "a@example.org"]);
    assert!(code == 1 && err.contains("admin, staff or auditor"), "{err}");

    let (_, list, _) = env.run(&["user", "list"]);
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(list.starts_with("sato@example.org\tstaff\tactive\t"), "{list}");

    assert_eq!(
        env.run(&["user", "set-role", "sato@example.org", "auditor"]).1,
        "sato@example.org: now auditor; its sessions ended\n"
    );
    assert!(
        env.run(&["user", "set-role", "sato@example.org", "auditor"])
            .1
            .contains("nothing changed")
    );
    assert_eq!(env.run(&["user", "disable", "sato@example.org"]).0, 0);
    assert!(
        env.run(&["user", "list"])
            .1
            .starts_with("sato@example.org\tauditor\tdisabled")
    );
    let (code, _, err) = env.run(&["user", "disable", "nobody@example.org"]);
    assert!(code == 1 && err.contains("no account nobody@example.org"), "{err}");
    let (code, _, _) = run_with_input(
        &env,
        &["user", "reset-password", "sato@example.org", "--password-stdin"],
        "a fresh long passphrase\n",
    );
    assert_eq!(code, 0);

    // Every change is in the staff-action log; the password never is.
    let (_, actions, _) = env.run(&["actions", "list", "--format", "json"]);
    for verb in ["user.add", "user.set_role", "user.disable", "user.reset_password"] {
        assert!(
            actions.contains(&format!("\"action\":\"{verb}\"")),
            "{verb} missing: {actions}"
        );
    }
    assert!(
        !actions.contains("correct horse") && !actions.contains("fresh long"),
        "{actions}"
    );
});

both_backends!(tokens_are_shown_once_and_stored_hashed, |env: TestEnv| async move {
    assert_eq!(env.run(&["init"]).0, 0);
    let (code, _, err) = run_with_input(
        &env,
        &[
            "user",
            "add",
            "--role",
            "auditor",
            "audit@example.org",
            "--password-stdin",
        ],
        "an auditor's long passphrase\n",
    );
    assert_eq!(code, 0, "{err}");
    let (code, token, err) = env.run(&["token", "create", "--user", "audit@example.org", "--expires", "30"]);
    assert_eq!(code, 0, "{err}");
    let token = token.trim().to_owned();
    assert!(token.starts_with("otk_") && token.len() > 40, "{token}");
    assert!(err.contains("shown once"), "{err}");

    // Neither the list nor the database holds the secret.
    let (_, list, _) = env.run(&["token", "list"]);
    assert!(list.starts_with("1\taudit@example.org\tapi\tlive\texpires "), "{list}");
    assert!(!list.contains(&token));
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(&env.url).await.unwrap();
    let stored: Vec<(String,)> = sqlx::query_as("SELECT hash FROM api_tokens")
        .fetch_all(&mut db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].0, token);
    assert_eq!(stored[0].0.len(), 64, "a SHA-256 in hex");

    let (code, _, err) = env.run(&["token", "create", "--user", "audit@example.org", "--expires", "0"]);
    assert!(code == 1 && err.contains("1 to 3650 days"), "{err}");
    let (code, _, err) = env.run(&["token", "create", "--user", "nobody@example.org"]);
    assert!(code == 1 && err.contains("no account nobody@example.org"), "{err}");
    assert_eq!(env.run(&["token", "revoke", "1"]).1, "token 1: revoked\n");
    assert!(env.run(&["token", "list"]).1.contains("\trevoked\t"));
    let (code, _, err) = env.run(&["token", "revoke", "9"]);
    assert!(code == 1 && err.contains("no API token 9"), "{err}");
});
