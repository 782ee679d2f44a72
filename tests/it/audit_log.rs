//! The verifiable log as an auditor uses it, with the real binary on both backends: after a run is sent and
//! members change their choices, `outreach audit verify` says OK and its size is every logged row; the
//! export, an inclusion proof of one mail and a consistency proof verify with the independent verifier
//! (`tools/verify-log.py`); and someone with database access who changes, inserts or removes a send-log row, an
//! action, a consent change, a leaf or a checkpoint (the append-only triggers dropped first) is named by
//! `audit verify` (exit 1), and refused by the independent verifier wherever the export shows it (a changed or
//! removed row, a forged checkpoint; a row never sealed, or a stored hash that disagrees with its row, is not
//! in an export, and only `audit verify`, which reads the database, can see it).

use crate::common::{self, Db, TestEnv, execute, scalar, verify_log as verifier};

fn ok(env: &TestEnv, args: &[&str]) -> String {
    let (code, out, err) = env.run(args);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    out
}

/// Every logged row: what the tree must hold once sealed.
async fn logged_rows(env: &TestEnv) -> i64 {
    scalar(
        env,
        "SELECT (SELECT COUNT(*) FROM send_log) + (SELECT COUNT(*) FROM actions) + (SELECT COUNT(*) FROM member_events)",
    )
    .await
}

/// `audit verify` fails naming `names`, and so does the independent verifier on the export of what the
/// database now holds.
fn both_refuse(env: &TestEnv, key: &str, case: &str, names: &str) {
    let (code, out, err) = env.run(&["audit", "verify"]);
    assert_eq!(code, 1, "{case}: audit verify passed: {out}{err}");
    assert!(err.contains(names), "{case}: {err}");
    let export = format!("tampered-{}.export", case.replace(' ', "-"));
    let (_, _, export_err) = env.run(&["audit", "export", "--out", &export]);
    let independent = verifier(&["export", &export, "--key", key], env.path());
    assert_eq!(
        independent.status.code(),
        Some(1),
        "{case}: the independent verifier passed: {export_err} {}",
        String::from_utf8_lossy(&independent.stdout)
    );
}

/// `audit verify` is OK again (after the tampering was undone).
fn verifies(env: &TestEnv, case: &str) {
    let (code, out, err) = env.run(&["audit", "verify"]);
    assert_eq!(code, 0, "{case}: {out}{err}");
}

both_backends!(
    an_auditor_verifies_proves_and_finds_every_tampering,
    |env: TestEnv| async move {
        ok(&env, &["init"]);
        let members: String = (0..12)
            .map(|i| format!("m{i}@example.co.jp,会社{i},担当{i},telework,ja\n"))
            .collect();
        let file = env.write("m.csv", format!("email,company,contact_name,themes,locale\n{members}"));
        ok(&env, &["members", "import", &file]);
        let (code, created, err) = env.create_campaign("telework", "newsletter", &["--cron", "0 9 * * *"]);
        assert_eq!(code, 0, "{err}");
        let id = created
            .split_whitespace()
            .find_map(|w| w.parse::<i64>().ok())
            .unwrap()
            .to_string();
        ok(&env, &["campaign", "send-now", &id]);
        ok(&env, &["send-due"]);
        assert_eq!(scalar(&env, "SELECT COUNT(*) FROM send_log").await, 12);

        // send-due sealed what it wrote; the log's size is every logged row.
        let said = ok(&env, &["audit", "verify"]);
        let rows = logged_rows(&env).await;
        assert!(said.starts_with(&format!("OK {rows} ")), "{said} (rows: {rows})");
        assert_eq!(scalar(&env, "SELECT COUNT(*) FROM audit_pending").await, 0);
        let key = ok(&env, &["audit", "key"]).trim().to_owned();
        let old = ok(&env, &["audit", "checkpoint"]);
        env.write("old.checkpoint", &old);
        let old_size = old.lines().nth(1).unwrap().to_owned();
        assert_eq!(old_size, rows.to_string());

        // More happens: a member leaves, another run goes out. The log extends the kept checkpoint.
        ok(&env, &["members", "unsubscribe", "m3@example.co.jp"]);
        ok(&env, &["campaign", "send-now", &id]);
        ok(&env, &["send-due"]);
        let said = ok(&env, &["audit", "verify", "--against", "old.checkpoint"]);
        let rows = logged_rows(&env).await;
        assert!(said.starts_with(&format!("OK {rows} ")), "{said}");

        // The export verifies independently, and extends the kept checkpoint.
        ok(&env, &["audit", "export", "--out", "month.export"]);
        let checked = verifier(
            &["export", "month.export", "--key", &key, "--against", "old.checkpoint"],
            env.path(),
        );
        assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
        let export = std::fs::read_to_string(env.path().join("month.export")).unwrap();
        assert!(!export.contains("@example.co.jp"), "an address in the export");
        assert!(!export.contains("会社"), "a company name in the export");

        // One mail's record is in the log, by its inclusion proof, checked without our code.
        let message_id: String = {
            let out = ok(&env, &["log", "list", "--recipient", "m5@example.co.jp"]);
            out.split_whitespace()
                .find(|w| w.starts_with('<') && w.ends_with('>'))
                .expect("a Message-ID")
                .to_owned()
        };
        let proof = ok(
            &env,
            &[
                "audit",
                "prove",
                "--message-id",
                &message_id,
                "--leaf-out",
                "leaf.json",
                "--checkpoint-out",
                "now.checkpoint",
            ],
        );
        let field = |name: &str| {
            proof
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .unwrap_or_else(|| panic!("{name} in {proof}"))
                .to_owned()
        };
        let inclusion = |proof: &str| {
            verifier(
                &[
                    "inclusion",
                    "--leaf-file",
                    "leaf.json",
                    "--index",
                    &field("leaf"),
                    "--checkpoint",
                    "now.checkpoint",
                    "--key",
                    &key,
                    "--proof",
                    proof,
                ],
                env.path(),
            )
        };
        let included = inclusion(&field("proof"));
        assert!(
            included.status.success(),
            "{}",
            String::from_utf8_lossy(&included.stderr)
        );
        assert!(field("entry").contains(&message_id), "{proof}");
        // A flipped bit in the proof fails it.
        let mut flipped = field("proof");
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        let refused = inclusion(&flipped);
        assert_eq!(refused.status.code(), Some(1));

        // The newer checkpoint extends the older, by the consistency proof.
        let new_size = field("size");
        let consistency = ok(&env, &["audit", "consistency", &old_size, &new_size]);
        let consistent = verifier(
            &[
                "consistency",
                "--old",
                "old.checkpoint",
                "--new",
                "now.checkpoint",
                "--proof",
                consistency.trim(),
                "--key",
                &key,
            ],
            env.path(),
        );
        assert!(
            consistent.status.success(),
            "{}",
            String::from_utf8_lossy(&consistent.stderr)
        );

        // Someone with database access drops the append-only triggers and the queueing ones...
        let drop = match env.db {
            Db::Sqlite => {
                "DROP TRIGGER send_log_no_update; DROP TRIGGER send_log_no_delete; DROP TRIGGER actions_no_update; \
                 DROP TRIGGER actions_no_delete; DROP TRIGGER member_events_no_update; \
                 DROP TRIGGER member_events_no_delete; DROP TRIGGER audit_leaves_no_update; \
                 DROP TRIGGER audit_leaves_no_delete; DROP TRIGGER audit_checkpoints_no_update; \
                 DROP TRIGGER audit_checkpoints_no_delete;"
            }
            Db::Postgres => {
                "DROP TRIGGER send_log_append_only ON send_log; DROP TRIGGER actions_append_only ON actions; \
                 DROP TRIGGER member_events_append_only ON member_events; \
                 DROP TRIGGER audit_leaves_append_only ON audit_leaves; \
                 DROP TRIGGER audit_checkpoints_append_only ON audit_checkpoints;"
            }
        };
        execute(&env, drop).await.unwrap_or_else(|e| panic!("{e}"));
        let send_row = scalar(&env, "SELECT MIN(id) FROM send_log").await;
        let action_row = scalar(&env, "SELECT MAX(id) FROM actions").await;
        let consent_row = scalar(&env, "SELECT MAX(id) FROM member_events").await;
        let last_size = scalar(&env, "SELECT MAX(size) FROM audit_checkpoints").await;
        let overriding = if env.db == Db::Postgres {
            "OVERRIDING SYSTEM VALUE"
        } else {
            ""
        };

        // ...and changes, inserts or removes one entry at a time; each is named, then undone.
        let cases: Vec<(&str, String, String, String)> = vec![
            (
                "send-log row changed",
                format!("UPDATE send_log SET outcome = 'failed' WHERE id = {send_row}"),
                format!("UPDATE send_log SET outcome = 'sent' WHERE id = {send_row}"),
                format!("send_log row {send_row}) was changed"),
            ),
            (
                "send-log row removed",
                format!("CREATE TABLE kept AS SELECT * FROM send_log WHERE id = {send_row}; DELETE FROM send_log WHERE id = {send_row}"),
                // The row comes back as it was; the queueing trigger must not queue it a second time.
                format!(
                    "INSERT INTO send_log {overriding} SELECT * FROM kept; DROP TABLE kept; \
                     DELETE FROM audit_pending WHERE kind = 'send_attempt' AND row_id = {send_row}"
                ),
                format!("send_log row {send_row}): its row was removed"),
            ),
            (
                "action changed",
                format!("UPDATE actions SET target = 'campaign 999' WHERE id = {action_row}"),
                format!("UPDATE actions SET target = (SELECT target FROM audit_kept) WHERE id = {action_row}; DROP TABLE audit_kept"),
                format!("actions row {action_row}) was changed"),
            ),
            (
                "action inserted",
                // Its queue entry removed too, as if the queueing trigger had been dropped.
                format!(
                    "INSERT INTO actions (at, actor_kind, actor, address, action, target, summary) \
                     VALUES (1, 'operator', 'someone', '', 'campaign.cancel', 'campaign 1', '{{}}'); \
                     DELETE FROM audit_pending WHERE kind = 'staff_action' AND row_id > {action_row}"
                ),
                format!("DELETE FROM actions WHERE id > {action_row}"),
                "was inserted behind the log".to_owned(),
            ),
            (
                "consent change changed",
                format!("UPDATE member_events SET event = 'subscribed' WHERE id = {consent_row}"),
                format!("UPDATE member_events SET event = (SELECT event FROM audit_kept) WHERE id = {consent_row}; DROP TABLE audit_kept"),
                format!("member_events row {consent_row}) was changed"),
            ),
            (
                "leaf changed",
                "UPDATE audit_leaves SET leaf_hash = '00' || substr(leaf_hash, 3) WHERE leaf_index = 4".to_owned(),
                "UPDATE audit_leaves SET leaf_hash = (SELECT leaf_hash FROM audit_kept) WHERE leaf_index = 4; DROP TABLE audit_kept".to_owned(),
                "leaf 4 (".to_owned(),
            ),
            (
                "leaf removed",
                "CREATE TABLE kept AS SELECT * FROM audit_leaves WHERE leaf_index = 7; DELETE FROM audit_leaves WHERE leaf_index = 7".to_owned(),
                "INSERT INTO audit_leaves SELECT * FROM kept; DROP TABLE kept".to_owned(),
                "leaf 7 was removed".to_owned(),
            ),
            (
                "checkpoint changed",
                format!("UPDATE audit_checkpoints SET root = '00' || substr(root, 3) WHERE size = {last_size}"),
                format!("UPDATE audit_checkpoints SET root = (SELECT root FROM audit_kept) WHERE size = {last_size}; DROP TABLE audit_kept"),
                format!("the checkpoint of size {last_size} was changed"),
            ),
            (
                "checkpoint forged",
                format!("UPDATE audit_checkpoints SET note = replace(note, '\n{last_size}\n', '\n{}\n') WHERE size = {last_size}", last_size + 1),
                format!("UPDATE audit_checkpoints SET note = (SELECT note FROM audit_kept) WHERE size = {last_size}; DROP TABLE audit_kept"),
                format!("the checkpoint of size {last_size} does not verify"),
            ),
        ];
        for (case, tamper, undo, names) in cases {
            // What an UPDATE overwrites is kept aside to undo it.
            let keep = match case {
                "action changed" => {
                    format!("CREATE TABLE audit_kept AS SELECT target FROM actions WHERE id = {action_row}")
                }
                "consent change changed" => {
                    format!("CREATE TABLE audit_kept AS SELECT event FROM member_events WHERE id = {consent_row}")
                }
                "leaf changed" => {
                    "CREATE TABLE audit_kept AS SELECT leaf_hash FROM audit_leaves WHERE leaf_index = 4".to_owned()
                }
                "checkpoint changed" => {
                    format!("CREATE TABLE audit_kept AS SELECT root FROM audit_checkpoints WHERE size = {last_size}")
                }
                "checkpoint forged" => {
                    format!("CREATE TABLE audit_kept AS SELECT note FROM audit_checkpoints WHERE size = {last_size}")
                }
                _ => "SELECT 1".to_owned(),
            };
            execute(&env, &keep).await.unwrap_or_else(|e| panic!("{case}: {e}"));
            execute(&env, &tamper).await.unwrap_or_else(|e| panic!("{case}: {e}"));
            if matches!(case, "leaf changed" | "checkpoint changed" | "action inserted") {
                // A stored hash or root that disagrees with the rows and the signed note, or a row that is no
                // leaf: the export (the leaves, recomputed from their rows, and the signed note) is sound, so only
                // the check that reads the database can name it.
                let (code, _, err) = env.run(&["audit", "verify"]);
                assert_eq!(code, 1, "{case}");
                assert!(err.contains(&names), "{case}: {err}");
            } else {
                both_refuse(&env, &key, case, &names);
            }
            execute(&env, &undo)
                .await
                .unwrap_or_else(|e| panic!("{case}: undo: {e}"));
            verifies(&env, case);
        }

        // Cutting the log back (its latest leaves and checkpoint removed) passes on its own, but not against a
        // checkpoint someone kept.
        ok(&env, &["members", "unsubscribe", "m4@example.co.jp"]);
        let kept = ok(&env, &["audit", "checkpoint"]);
        env.write("kept.checkpoint", &kept);
        let size: i64 = kept.lines().nth(1).unwrap().parse().unwrap();
        execute(
            &env,
            &format!(
                "DELETE FROM audit_checkpoints WHERE size = {size}; DELETE FROM audit_leaves WHERE leaf_index >= {}",
                scalar(
                    &env,
                    "SELECT MAX(size) FROM audit_checkpoints WHERE size < (SELECT MAX(size) FROM audit_checkpoints)"
                )
                .await
            ),
        )
        .await
        .unwrap();
        // The rows of those leaves are still there, neither sealed nor queued: named as inserted behind the log.
        let (code, _, err) = env.run(&["audit", "verify"]);
        assert_eq!(code, 1, "{err}");
        let (code, _, err) = env.run(&["audit", "verify", "--against", "kept.checkpoint"]);
        assert_eq!(code, 1);
        assert!(err.contains("cut back") || err.contains("does not extend"), "{err}");
    }
);

/// The raw mails in the outbox addressed to `to`.
fn raw_mails_to(s: &crate::support::served::Served, to: &str) -> Vec<Vec<u8>> {
    s.outbox_raw()
        .into_iter()
        .filter(|raw| {
            crate::support::mime::read(raw)
                .header("To")
                .is_some_and(|t| t.contains(to))
        })
        .collect()
}

// Witnesses get the day's checkpoint by mail, once a day whatever happens after, as a file that verifies with
// the independent verifier; anyone can fetch the latest checkpoint and the key over HTTP, without signing in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn witnesses_keep_the_days_checkpoint_and_anyone_can_fetch_it() {
    use crate::support::served::{ALICE, served};
    const WITNESS: &str = "kansa@metro.example.jp";
    let mut env = TestEnv::new(Db::Sqlite).await.unwrap();
    env.set("OUTREACH_AUDIT__SEAL_SECS", "1")
        .set("OUTREACH_AUDIT__WITNESSES", format!("{WITNESS},second@example.org"));
    let s = served(env).await;
    let mut mails = Vec::new();
    for _ in 0..100 {
        mails = raw_mails_to(&s, WITNESS);
        if !mails.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(mails.len(), 1, "one checkpoint mail to the witness");
    let read = crate::support::mime::read(&mails[0]);
    assert!(read.subject.contains("監査ログのチェックポイント"), "{}", read.subject);
    let key = s.cli(&["audit", "key"]).trim().to_owned();
    let name = mails[0]
        .windows(11)
        .position(|w| w == b"checkpoint-")
        .map(|i| {
            let rest = &mails[0][i..];
            String::from_utf8_lossy(&rest[..rest.iter().position(|&b| b == b'"').unwrap()]).into_owned()
        })
        .expect("an attached checkpoint");
    let kept = crate::support::mime::attachment(&mails[0], &name).expect("the attachment decodes");
    std::fs::write(s.env.path().join("kept.checkpoint"), &kept).unwrap();
    let checked = verifier(&["checkpoint", "kept.checkpoint", "--key", &key], s.env.path());
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));

    // More happens and is sealed; the witness gets nothing more today, and the log extends what they kept.
    s.cli(&["members", "unsubscribe", ALICE]);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(raw_mails_to(&s, WITNESS).len(), 1, "a second mail the same day");
    assert_eq!(raw_mails_to(&s, "second@example.org").len(), 1);
    s.cli(&["audit", "verify", "--against", "kept.checkpoint"]);

    // The latest checkpoint and the key, public: the checkpoint verifies and is newer than the kept one.
    let fetched = s.http.get(s.url("/audit/checkpoint")).send().await.unwrap();
    assert_eq!(fetched.status(), reqwest::StatusCode::OK);
    let note = fetched.text().await.unwrap();
    std::fs::write(s.env.path().join("latest.checkpoint"), &note).unwrap();
    let checked = verifier(&["checkpoint", "latest.checkpoint", "--key", &key], s.env.path());
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    let size = |text: &str| text.lines().nth(1).unwrap().parse::<u64>().unwrap();
    assert!(size(&note) > size(&String::from_utf8_lossy(&kept)), "{note}");
    let published = s
        .http
        .get(s.url("/audit/key"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(published.lines().next(), Some(key.as_str()));
}
