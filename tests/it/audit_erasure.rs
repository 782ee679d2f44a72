//! Erasure and retention on a log of thousands of rows, both backends, with the real binary: a member erased
//! on request leaves no trace of their address or names in the database (checked by query), and every
//! checkpoint, proof and export made before still verifies, with `audit verify` and the independent verifier;
//! retention does the same for every row past `audit.retention_days`.

use crate::common::{self, TestEnv, scalar, verify_log as verifier};

const MEMBERS: usize = 500;

fn ok(env: &TestEnv, args: &[&str]) -> String {
    let (code, out, err) = env.run(args);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    out
}

/// Rows anywhere in the database that still hold `needle` (lower case) in a text column people's data is in.
async fn traces(env: &TestEnv, needle: &str) -> i64 {
    let like = format!("'%{needle}%'");
    scalar(
        env,
        &format!(
            "SELECT (SELECT COUNT(*) FROM send_log WHERE lower(recipient) LIKE {like} OR lower(smtp_reply) LIKE {like}) \
             + (SELECT COUNT(*) FROM actions WHERE lower(actor) LIKE {like} OR lower(target) LIKE {like} \
                OR lower(summary) LIKE {like}) \
             + (SELECT COUNT(*) FROM member_events WHERE lower(reason) LIKE {like}) \
             + (SELECT COUNT(*) FROM deliveries WHERE lower(email) LIKE {like} OR lower(last_reply) LIKE {like}) \
             + (SELECT COUNT(*) FROM members WHERE lower(email) LIKE {like} OR lower(email_norm) LIKE {like} \
                OR company LIKE {like} OR contact_name LIKE {like})"
        ),
    )
    .await
}

both_backends!(
    erased_members_and_old_rows_leave_no_trace_and_the_log_still_verifies,
    |mut env: TestEnv| async move {
        env.set("OUTREACH_AUDIT__RETENTION_DAYS", "0");
        ok(&env, &["init"]);
        let mut csv = String::from("email,company,contact_name,themes,locale\n");
        for i in 0..MEMBERS {
            csv.push_str(&format!(
                "Kaiin{i}@Example.co.jp,株式会社消去{i}号,担当 消去{i}号,telework,ja\n"
            ));
        }
        let file = env.write("members.csv", csv);
        ok(&env, &["members", "import", &file]);
        let (code, id, err) = env.create_campaign("telework", "newsletter", &["--cron", "0 9 1 * *"]);
        assert_eq!(code, 0, "{err}");
        let id = id.trim().to_owned();
        for _ in 0..2 {
            ok(&env, &["campaign", "send-now", &id]);
            ok(&env, &["send-due"]);
        }
        ok(
            &env,
            &[
                "members",
                "suppress",
                "kaiin7@example.co.jp",
                "--reason",
                "kaiin7@example.co.jp から依頼",
            ],
        );
        let rows = scalar(&env, "SELECT COUNT(*) FROM send_log").await;
        assert_eq!(usize::try_from(rows).unwrap(), 2 * MEMBERS);

        let key = ok(&env, &["audit", "key"]).trim().to_owned();
        env.write("old.checkpoint", ok(&env, &["audit", "checkpoint"]));
        ok(&env, &["audit", "export", "--out", "old.export"]);
        let message_id = {
            let out = ok(&env, &["log", "list", "--recipient", "kaiin7@example.co.jp"]);
            out.split_whitespace()
                .find(|w| w.starts_with('<') && w.ends_with('>'))
                .expect("a Message-ID")
                .to_owned()
        };
        let proof_before = ok(&env, &["audit", "prove", "--message-id", &message_id]);
        assert!(traces(&env, "kaiin7@").await > 0);

        // A dry run changes nothing.
        let said = ok(
            &env,
            &[
                "members",
                "erase",
                "KAIIN7@example.co.jp",
                "--reason",
                "本人の依頼",
                "--dry-run",
            ],
        );
        assert!(said.contains("would replace"), "{said}");
        assert!(traces(&env, "kaiin7@").await > 0);

        // The erasure: no trace of the address or the names, anywhere they were.
        ok(
            &env,
            &["members", "erase", "KAIIN7@example.co.jp", "--reason", "本人の依頼"],
        );
        assert_eq!(traces(&env, "kaiin7@").await, 0);
        assert_eq!(traces(&env, "消去7号").await, 0);
        assert!(traces(&env, "kaiin8@").await > 0, "another member's data was erased");

        // The log still verifies, extends what was kept, and proves the erased member's mail as before.
        ok(&env, &["audit", "verify", "--against", "old.checkpoint"]);
        let proof_after = ok(&env, &["audit", "prove", "--message-id", &message_id]);
        let entry = |proof: &str| proof.lines().find(|l| l.starts_with("entry ")).unwrap().to_owned();
        assert_eq!(entry(&proof_after), entry(&proof_before));
        ok(&env, &["audit", "export", "--out", "new.export"]);
        let checked = verifier(
            &["export", "new.export", "--key", &key, "--against", "old.checkpoint"],
            env.path(),
        );
        assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
        let old = std::fs::read_to_string(env.path().join("old.export")).unwrap();
        let new = std::fs::read_to_string(env.path().join("new.export")).unwrap();
        let leaves = |text: &str| text.split("# checkpoint\n").next().unwrap().to_owned();
        assert!(leaves(&new).starts_with(&leaves(&old)), "the old leaves changed");
        // The erased member gets no more mail.
        ok(&env, &["campaign", "send-now", &id]);
        ok(&env, &["send-due"]);
        assert_eq!(traces(&env, "kaiin7@").await, 0);

        // Retention (0 days here: everything written so far): no address in the logs, and still verifies.
        let said = ok(&env, &["audit", "retention", "--dry-run"]);
        assert!(said.contains("would pseudonymise"), "{said}");
        assert!(scalar(&env, "SELECT COUNT(*) FROM send_log WHERE recipient LIKE '%@%'").await > 0);
        ok(&env, &["audit", "retention"]);
        assert_eq!(
            scalar(&env, "SELECT COUNT(*) FROM send_log WHERE recipient LIKE '%@%'").await,
            0
        );
        assert_eq!(
            scalar(
                &env,
                "SELECT COUNT(*) FROM actions WHERE action <> 'audit.retention' \
                 AND (actor LIKE '%@%' OR target LIKE '%@%' OR summary LIKE '%@%')"
            )
            .await,
            0
        );
        ok(&env, &["audit", "verify", "--against", "old.checkpoint"]);
        ok(&env, &["audit", "export", "--out", "kept.export"]);
        let checked = verifier(
            &["export", "kept.export", "--key", &key, "--against", "old.checkpoint"],
            env.path(),
        );
        assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    }
);
