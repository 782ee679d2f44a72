//! Signed notes against the Go reference's vectors, and checkpoints through signing, verifying and tampering.
//!
//! The Go vectors are from golang.org/x/mod's `sumdb/note/note_test.go` and `example_test.go` (repository
//! golang/mod, commit fe2ec04f7c3c3aa6fad97631aafcff6e49e2d1db): PeterNeumann's signer and verifier keys,
//! EnochRoot's verifier key, their signatures of one text. The C2SP one is the example of
//! `signed-note.md` (C2SP/C2SP, commit 5ba5ee830903e91240fc6f9f3a7a9293d49e69c9).

use chrono::TimeZone;

use super::*;
use crate::domain::audit::note::key_id;

const PETER_SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG: &str =
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str =
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn peter() -> Verifier {
    Verifier::parse(PETER_VKEY).unwrap()
}

fn example() -> Checkpoint {
    Checkpoint {
        origin: "outreach.example/audit".to_owned(),
        size: 3,
        root: [7; 32],
        time: Some(Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap()),
    }
}

fn signer(name: &str, byte: u8) -> Signer {
    Signer::from_seed(name, &[byte; 32]).unwrap()
}

#[test]
fn the_go_vector_verifies_and_signs_byte_for_byte() {
    let note = format!("{TEXT}\n{PETER_SIG}");
    assert_eq!(peter().open(&note), Ok(TEXT));
    let signer = Signer::parse(PETER_SKEY).unwrap();
    assert_eq!(signer.verifier_key(), PETER_VKEY);
    assert_eq!(signer.signer_key(), PETER_SKEY);
    assert_eq!(signer.key_id(), 0xc74f20a3);
    assert_eq!(signer.sign_note(TEXT).unwrap(), note, "Ed25519 signs deterministically");
    // Not a checkpoint: its first line has spaces.
    assert!(matches!(verify(&note, PETER_VKEY), Err(CheckpointError::BadName(_))));
}

#[test]
fn the_c2sp_example_verifies() {
    let vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    let note = "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
    assert_eq!(
        Verifier::parse(vkey).unwrap().open(note),
        Ok("This is an example message.\n")
    );
}

#[test]
fn other_keys_signatures_are_skipped_and_each_key_finds_its_own() {
    let both = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
    assert_eq!(peter().open(&both), Ok(TEXT));
    assert_eq!(Verifier::parse(ENOCH_VKEY).unwrap().open(&both), Ok(TEXT));
    let only_enoch = format!("{TEXT}\n{ENOCH_SIG}");
    assert_eq!(
        peter().open(&only_enoch),
        Err(CheckpointError::NotSignedByKey {
            expected: "PeterNeumann+c74f20a3".to_owned(),
            found: "EnochRoot+af0cfe78".to_owned(),
        })
    );
}

/// The malformed notes of Go's TestOpen, and a changed signature.
#[test]
fn the_go_malformed_notes_are_refused() {
    let bad = [
        TEXT.to_owned(),
        format!("{TEXT}\n"),
        format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
        format!("\x01{TEXT}\n{PETER_SIG}"),
        format!(
            "{TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
        ),
        format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
        format!("{TEXT}\n{}", PETER_SIG.repeat(101)),
    ];
    for note in bad {
        assert!(
            matches!(peter().open(&note), Err(CheckpointError::MalformedNote(_))),
            "{note}"
        );
    }
    let changed = format!("{TEXT}\n{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
    assert_eq!(
        peter().open(&changed),
        Err(CheckpointError::BadSignature {
            name: "PeterNeumann".to_owned(),
            id: 0xc74f20a3
        })
    );
}

/// Go's TestNewVerifier and TestNewSigner: no part of a key text, and no key text with one byte changed, reads.
#[test]
fn mangled_key_texts_are_refused() {
    for (key, read) in [
        (
            PETER_VKEY,
            &(|k: &str| Verifier::parse(k).is_ok()) as &dyn Fn(&str) -> bool,
        ),
        (PETER_SKEY, &|k: &str| Signer::parse(k).is_ok()),
    ] {
        assert!(read(key));
        for i in 0..=key.len() {
            for j in i + 1..=key.len() {
                if (i, j) != (0, key.len()) {
                    assert!(!read(&key[i..j]), "{}", &key[i..j]);
                }
            }
        }
        let mut bytes = key.as_bytes().to_vec();
        for i in 0..bytes.len() {
            bytes[i] += 1;
            assert!(!read(std::str::from_utf8(&bytes).unwrap()), "byte {i} of {key}");
            bytes[i] -= 1;
        }
    }
    // A wrong-length key and an unknown algorithm, each with its key id adjusted (Go's cases).
    assert!(Verifier::parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==").is_err());
    assert!(Verifier::parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").is_err());
}

#[test]
fn a_signed_checkpoint_verifies_to_itself() {
    let signer = signer("outreach.example/audit", 1);
    let note = signer.sign(&example()).unwrap();
    assert_eq!(verify(&note, &signer.verifier_key()), Ok(example()));
    assert!(note.starts_with(&format!(
        "outreach.example/audit\n3\n{}\ntime 2026-12-07T09:00:00Z\n\n— outreach.example/audit ",
        STANDARD.encode([7; 32])
    )));
    let untimed = Checkpoint {
        time: None,
        ..example()
    };
    assert_eq!(
        verify(&signer.sign(&untimed).unwrap(), &signer.verifier_key()),
        Ok(untimed)
    );
    let restored = Signer::parse(&signer.signer_key()).unwrap();
    assert_eq!(restored.sign(&example()), Ok(note));
    let generated = Signer::generate("outreach.example/audit").unwrap();
    assert_ne!(generated.public_key(), signer.public_key());
    assert_eq!(
        verify(&generated.sign(&example()).unwrap(), &generated.verifier_key()),
        Ok(example())
    );
}

#[test]
fn tampering_with_any_line_fails() {
    let signer = signer("outreach.example/audit", 1);
    let note = signer.sign(&example()).unwrap();
    let lines: Vec<&str> = note.split_inclusive('\n').collect();
    assert_eq!(lines.len(), 6, "four body lines, a blank line, a signature");
    for (i, line) in lines.iter().enumerate() {
        for changed in [
            format!("x{line}"),
            line.replacen('0', "1", 1),
            line.replacen('A', "B", 1),
            String::new(),
            format!("{line}{line}"),
        ] {
            // A signature line twice is still the same checkpoint signed (Go's reader accepts it too).
            if changed == *line || i == lines.len() - 1 && changed == line.repeat(2) {
                continue;
            }
            let mut tampered = lines.clone();
            tampered[i] = &changed;
            let tampered = tampered.concat();
            assert!(
                verify(&tampered, &signer.verifier_key()).is_err(),
                "line {i} as {changed:?}"
            );
        }
    }
    assert!(verify(&note.replace("\n\n", "\n"), &signer.verifier_key()).is_err());
}

#[test]
fn a_note_signed_by_another_key_fails_clearly() {
    let ours = signer("outreach.example/audit", 1);
    let theirs = signer("outreach.example/audit", 2);
    let note = theirs.sign(&example()).unwrap();
    let error = verify(&note, &ours.verifier_key()).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "the note is not signed by outreach.example/audit+{:08x} (signed by: outreach.example/audit+{:08x})",
            ours.key_id(),
            theirs.key_id()
        )
    );
    // Another key's signature under our name and id is checked, and fails.
    let mut signature = STANDARD.decode(note.rsplit(' ').next().unwrap().trim_end()).unwrap();
    signature[..4].copy_from_slice(&ours.key_id().to_be_bytes());
    let forged = format!(
        "{}\n— outreach.example/audit {}\n",
        example().body(),
        STANDARD.encode(signature)
    );
    assert!(matches!(
        verify(&forged, &ours.verifier_key()),
        Err(CheckpointError::BadSignature { .. })
    ));
    let other_log = Checkpoint {
        origin: "other.example/audit".to_owned(),
        ..example()
    };
    assert_eq!(
        verify(&ours.sign(&other_log).unwrap(), &ours.verifier_key()),
        Err(CheckpointError::WrongOrigin {
            origin: "other.example/audit".to_owned(),
            expected: "outreach.example/audit".to_owned()
        })
    );
    let renamed = signer("other.example/audit", 1);
    assert!(matches!(
        verify(&renamed.sign(&example()).unwrap(), &ours.verifier_key()),
        Err(CheckpointError::NotSignedByKey { .. })
    ));
    assert_ne!(key_id("other.example/audit", &ours.public_key()), ours.key_id());
}

#[test]
fn malformed_bodies_are_refused() {
    let root = STANDARD.encode([7; 32]);
    let good = format!("o.example/log\n3\n{root}\ntime 2026-12-07T09:00:00Z\n");
    assert!(Checkpoint::parse(&good).is_ok());
    let bad = [
        good.trim_end().to_owned(),
        format!("o.example/log\n3\n{root}"),
        format!("\n3\n{root}\n"),
        format!("o example/log\n3\n{root}\n"),
        format!("o.example+log\n3\n{root}\n"),
        format!("o.example/log\n03\n{root}\n"),
        format!("o.example/log\n+3\n{root}\n"),
        format!("o.example/log\n-3\n{root}\n"),
        format!("o.example/log\n\n{root}\n"),
        format!("o.example/log\n18446744073709551616\n{root}\n"),
        "o.example/log\n3\n".to_owned(),
        format!("o.example/log\n3\n{}\n", STANDARD.encode([7; 31])),
        format!("o.example/log\n3\n{}\n", root.trim_end_matches('=')),
        format!("o.example/log\n3\n{}\n", root.replace("c=", "d=")),
        format!("o.example/log\n3\n{root}\n\n"),
        format!("o.example/log\n3\n{root}\nwitness x\n"),
        format!("o.example/log\n3\n{root}\ntime 2026-12-7T09:00:00Z\n"),
        format!("o.example/log\n3\n{root}\ntime 2026-12-07 09:00:00Z\n"),
        format!("o.example/log\n3\n{root}\ntime 2026-12-07T09:00:00+09:00\n"),
        format!("{good}time 2026-12-07T09:00:00Z\n"),
    ];
    for body in bad {
        assert!(Checkpoint::parse(&body).is_err(), "{body:?}");
    }
    let zero = format!(
        "o.example/log\n0\n{}\n",
        STANDARD.encode(crate::domain::audit::EMPTY_ROOT)
    );
    assert_eq!(Checkpoint::parse(&zero).unwrap().size, 0);
}

#[test]
fn signing_refuses_what_would_not_read_back() {
    let signer = signer("outreach.example/audit", 1);
    for origin in ["", "a b", "a\n3", "a+b"] {
        let checkpoint = Checkpoint {
            origin: origin.to_owned(),
            ..example()
        };
        assert!(signer.sign(&checkpoint).is_err(), "{origin:?}");
    }
    assert!(Signer::from_seed("a b", &[1; 32]).is_err());
    assert!(signer.sign_note("no newline").is_err());
    assert!(!format!("{signer:?}").contains(&STANDARD.encode([1u8; 32])[..8]));
    assert_eq!(
        format!("{signer:?}"),
        format!("Signer(outreach.example/audit+{:08x})", signer.key_id())
    );
}
