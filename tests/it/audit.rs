//! The audit log's two implementations agree: exports written with the service's own core
//! (`outreach::domain::audit`) verify with the independent verifier (`tools/verify-log.py`, Python's standard
//! library only, written from `docs/audit-format.md`), and a tampered export fails it with exit status 1.
//! The verifier's own tests (every vector of the document, RFC 8032's, tampering of each kind) run here too, so
//! `cargo test` runs them.

use std::process::Command;

use outreach::domain::audit::merkle::{consistency_proof, leaf_hash, root};
use outreach::domain::audit::{AuditEvent, Checkpoint, Signer, leaf_bytes, personal_hmac};
use outreach::domain::{MemberEventKind, Outcome};

use crate::common;
use common::verify_log as verifier;

const ORIGIN: &str = "outreach.example.org/audit";

/// `n` events of the three kinds, as the service will write them.
fn events(n: usize) -> Vec<AuditEvent> {
    let key = b"installation key for the tests";
    (0..n)
        .map(|i| {
            let id = i64::try_from(i).unwrap();
            let at = 1_796_634_000_000 + id * 1_000;
            match i % 3 {
                0 => AuditEvent::SendAttempt {
                    delivery_id: id,
                    attempt: 1,
                    run_id: 7,
                    campaign_id: 3,
                    recipient_hmac: personal_hmac(key, &format!("member{i}@example.co.jp")),
                    message_id: format!("<{i}.1@outreach.example.org>"),
                    outcome: if i % 2 == 0 { Outcome::Sent } else { Outcome::Failed },
                    reply_code: Some(250),
                    attempted_at: at,
                    content_sha256: hex::encode(leaf_hash(format!("mail {i}").as_bytes())),
                },
                1 => AuditEvent::StaffAction {
                    action_id: id,
                    at,
                    actor_kind: "user".into(),
                    actor_hmac: personal_hmac(key, "sato@example.org"),
                    action: "campaign.pause".into(),
                    target: "campaign 3".into(),
                    details: serde_json::json!({"reason": "確認のため", "audience": i}),
                },
                _ => AuditEvent::ConsentChange {
                    event_id: id,
                    at,
                    member_hmac: personal_hmac(key, &format!("member{i}@example.co.jp")),
                    theme: Some("telework".into()),
                    event: MemberEventKind::Unsubscribed,
                    source: "member".into(),
                },
            }
        })
        .collect()
}

/// The export of §8: the leaves, the separator line, the signed checkpoint.
fn export(signer: &Signer, leaves: &[Vec<u8>]) -> (Vec<u8>, String) {
    let hashes: Vec<_> = leaves.iter().map(|l| leaf_hash(l)).collect();
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: u64::try_from(leaves.len()).unwrap(),
        root: root(&hashes),
        time: Some(chrono::DateTime::from_timestamp(1_796_634_000, 0).unwrap()),
    };
    let note = signer.sign(&checkpoint).unwrap();
    let mut bytes = Vec::new();
    for leaf in leaves {
        bytes.extend_from_slice(leaf);
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(b"# checkpoint\n");
    bytes.extend_from_slice(note.as_bytes());
    (bytes, note)
}

#[test]
fn exports_of_the_service_core_verify_independently_and_tampering_fails() {
    let dir = tempfile::tempdir().unwrap();
    let signer = Signer::from_seed(ORIGIN, &[7u8; 32]).unwrap();
    let key = signer.verifier_key();
    let leaves: Vec<Vec<u8>> = events(301).iter().map(|e| leaf_bytes(e).unwrap()).collect();

    // An earlier export (the first 200 leaves) and today's: today's verifies and extends the earlier one.
    let (old, old_note) = export(&signer, &leaves[..200]);
    let (new, _) = export(&signer, &leaves);
    std::fs::write(dir.path().join("old.export"), &old).unwrap();
    std::fs::write(dir.path().join("old.checkpoint"), &old_note).unwrap();
    std::fs::write(dir.path().join("new.export"), &new).unwrap();
    let ok = verifier(&["export", "new.export", "--key", &key], dir.path());
    let said = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{said} {}", String::from_utf8_lossy(&ok.stderr));
    assert!(said.starts_with("OK 301 "), "{said}");
    let extends = verifier(
        &["export", "new.export", "--key", &key, "--against", "old.checkpoint"],
        dir.path(),
    );
    assert!(extends.status.success(), "{}", String::from_utf8_lossy(&extends.stderr));

    // The consistency proof the service's core makes is the one the verifier accepts.
    let hashes: Vec<_> = leaves.iter().map(|l| leaf_hash(l)).collect();
    let proof: Vec<String> = consistency_proof(&hashes, 200)
        .unwrap()
        .iter()
        .map(hex::encode)
        .collect();
    let (_, new_note) = export(&signer, &leaves);
    std::fs::write(dir.path().join("new.checkpoint"), &new_note).unwrap();
    let consistent = verifier(
        &[
            "consistency",
            "--old",
            "old.checkpoint",
            "--new",
            "new.checkpoint",
            "--proof",
            &proof.join(","),
            "--key",
            &key,
        ],
        dir.path(),
    );
    assert!(
        consistent.status.success(),
        "{}",
        String::from_utf8_lossy(&consistent.stderr)
    );

    // A row changed (one character of one leaf), a row removed, a row added: each fails with status 1.
    let text = String::from_utf8(new.clone()).unwrap();
    let changed = text.replacen("\"outcome\":\"failed\"", "\"outcome\":\"sent\"", 1);
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    lines.remove(5);
    let removed = lines.concat();
    let added = format!("{}{}", String::from_utf8_lossy(&leaves[0]) + "\n", text);
    for (name, tampered) in [("changed", changed), ("removed", removed), ("added", added)] {
        assert_ne!(tampered, text, "{name}");
        std::fs::write(dir.path().join(name), &tampered).unwrap();
        let failed = verifier(&["export", name, "--key", &key], dir.path());
        assert_eq!(
            failed.status.code(),
            Some(1),
            "{name}: {}",
            String::from_utf8_lossy(&failed.stdout)
        );
        assert!(
            String::from_utf8_lossy(&failed.stderr).contains("FAIL"),
            "{name}: {}",
            String::from_utf8_lossy(&failed.stderr)
        );
    }
}

#[test]
fn the_independent_verifier_passes_its_own_tests() {
    let run = Command::new("python3")
        .args(["-m", "unittest", "discover", "-s", "tools", "-p", "test_*.py"])
        .current_dir(common::repo())
        .output()
        .expect("python3 runs");
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stderr).contains("OK"));
}
