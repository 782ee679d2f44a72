//! The test vectors of `docs/audit-format.md`, checked here so that the document cannot drift from the code.
//! The leaf bytes, hashes, root and proofs were computed apart from this code with Python's standard library
//! (`json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`, `hmac`, `hashlib`), and the
//! checkpoint's signature checked with RFC 8032's reference Ed25519 code (section 6).

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::domain::delivery::Outcome;
use crate::domain::states::MemberEventKind;

const HMAC_KEY: [u8; 32] = [0x42; 32];
const LEAVES: [&str; 3] = [
    "c0119824eaadf19c4e9abd5f7dde490ef7038938813ac33e5278a4871e0d3bf2",
    "d89f760c2dfddd962b8f4419136dc83744702c843d5f7d7588e0c46c1a7785f0",
    "a67121476f393d24a259984e441f9e4c1f909d400fa23118b0194139d535493d",
];
const ROOT_2: &str = "c559a887f3960367d7b0a5b925774c24ff6f1984ddca7ccbc948cb05792afaf1";
const ROOT_3: &str = "1f7aba6afce3fe3a578755985b912dea9e13c3a92f830765f9c319be5832500c";
const NOTE: &str = "outreach.example/audit\n3\nH3q6avzj/jpXh1WYW5Et6p4Tw6kvgwdl+cMZvlgyUAw=\ntime 2026-12-07T09:05:00Z\n\n\
    — outreach.example/audit hw7rUYD6I+RIQn9JI+9MtGgSJQ+SgMdWqPVeLlqGH9CHYVStOuc9CpCqXci+OIOEcyYFi8knpMHRbQLVtsNaA0kW3gM=\n";
const VERIFIER_KEY: &str = "outreach.example/audit+870eeb51+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
const SIGNER_KEY: &str = "PRIVATE+KEY+outreach.example/audit+870eeb51+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";

fn events() -> [AuditEvent; 3] {
    [
        AuditEvent::SendAttempt {
            delivery_id: 1042,
            attempt: 1,
            run_id: 17,
            campaign_id: 5,
            recipient_hmac: personal_hmac(&HMAC_KEY, "member@example.org"),
            message_id: "<1042.1@outreach.example>".to_owned(),
            outcome: Outcome::Sent,
            reply_code: Some(250),
            attempted_at: 1_796_634_000_000,
            content_sha256: "185f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969".to_owned(),
        },
        AuditEvent::StaffAction {
            action_id: 311,
            at: 1_796_634_060_000,
            actor_kind: "user".to_owned(),
            actor_hmac: personal_hmac(&HMAC_KEY, "suzuki@example.org"),
            action: "campaign.pause".to_owned(),
            target: "campaign 5".to_owned(),
            details: json!({"to": "paused", "from": "sending"}),
        },
        AuditEvent::ConsentChange {
            event_id: 2207,
            at: 1_796_634_120_000,
            member_hmac: personal_hmac(&HMAC_KEY, "member@example.org"),
            theme: Some("telework".to_owned()),
            event: MemberEventKind::Unsubscribed,
            source: "link".to_owned(),
        },
    ]
}

fn h(text: &str) -> Hash {
    let mut hash = [0; 32];
    hex::decode_to_slice(text, &mut hash).unwrap();
    hash
}

/// The document itself, so that a vector changed here but not there (or there but not here) fails.
const DOCUMENT: &str = include_str!("../../../docs/audit-format.md");

#[test]
fn the_documented_tree_proofs_and_checkpoint_hold() {
    let bytes: Vec<Vec<u8>> = events().iter().map(|e| leaf_bytes(e).unwrap()).collect();
    assert_eq!(bytes[0].len(), 354, "the length the document gives");
    for text in &bytes {
        let text = std::str::from_utf8(text).unwrap();
        assert!(DOCUMENT.contains(&format!("\n{text}\nleaf hash ")), "{text}");
    }
    let leaves: Vec<Hash> = bytes.iter().map(|b| merkle::leaf_hash(b)).collect();
    assert_eq!(leaves, LEAVES.map(h));
    for hash in LEAVES.iter().chain([&ROOT_2, &ROOT_3]) {
        assert!(DOCUMENT.contains(hash), "{hash}");
    }
    assert_eq!(merkle::root(&leaves[..2]), h(ROOT_2));
    assert_eq!(merkle::root(&leaves), h(ROOT_3));

    let inclusion = merkle::inclusion_proof(&leaves, 1).unwrap();
    assert_eq!(inclusion, [h(LEAVES[0]), h(LEAVES[2])]);
    merkle::verify_inclusion(1, 3, &leaves[1], &inclusion, &h(ROOT_3)).unwrap();
    let consistency = merkle::consistency_proof(&leaves, 2).unwrap();
    assert_eq!(consistency, [h(LEAVES[2])]);
    merkle::verify_consistency(2, 3, &h(ROOT_2), &h(ROOT_3), &consistency).unwrap();

    let seed: [u8; 32] = std::array::from_fn(|i| i as u8);
    let signer = Signer::from_seed("outreach.example/audit", &seed).unwrap();
    let checkpoint = Checkpoint {
        origin: "outreach.example/audit".to_owned(),
        size: 3,
        root: h(ROOT_3),
        time: Some(Utc.with_ymd_and_hms(2026, 12, 7, 9, 5, 0).unwrap()),
    };
    let note = signer.sign(&checkpoint).unwrap();
    assert_eq!(note, NOTE);
    assert_eq!(signer.verifier_key(), VERIFIER_KEY);
    assert_eq!(signer.signer_key(), SIGNER_KEY);
    assert_eq!(verify(NOTE, VERIFIER_KEY), Ok(checkpoint.clone()));
    assert_eq!(checkpoint.body().len(), 96, "the length the document gives");
    for text in [NOTE, VERIFIER_KEY, SIGNER_KEY] {
        assert!(DOCUMENT.contains(&format!("```\n{text}")), "{text}");
    }
}
