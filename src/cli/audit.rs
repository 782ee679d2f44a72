//! `outreach audit …`: the verifiable log (docs/audit-format.md), for auditors and for whoever keeps its
//! checkpoints.

use std::io::Write;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Subcommand;

use crate::Application;
use crate::error::AppError;

#[derive(Debug, Subcommand)]
pub(super) enum AuditCommand {
    /// Print the key checkpoints are signed with, as a note verifier key: keep it to verify the log.
    Key,
    /// Seal what is committed, then print the latest signed checkpoint (keep it: the log must extend it).
    Checkpoint {
        /// The checkpoint of a tree of this many leaves instead of the latest.
        #[arg(long)]
        size: Option<i64>,
    },
    /// Seal every committed row of the send log, the action log and the consent history into the tree.
    Seal,
    /// Recompute every leaf from its row and the tree from the leaves, check every checkpoint and its
    /// signature; print `OK <size> <root>` or name the first entry changed, inserted or removed (exit 1).
    Verify {
        /// A checkpoint you kept: the log must extend it.
        #[arg(long)]
        against: Option<PathBuf>,
    },
    /// Print the inclusion proof of one entry against the latest checkpoint.
    Prove {
        /// The mail's Message-ID (every attempt of it is proven).
        #[arg(long, conflicts_with = "leaf", required_unless_present = "leaf")]
        message_id: Option<String>,
        /// The leaf's number (line n + 1 of an export).
        #[arg(long)]
        leaf: Option<u64>,
        /// Also write the checkpoint the proof is against to this file.
        #[arg(long)]
        checkpoint_out: Option<PathBuf>,
        /// Also write the leaf (its line of the export) to this file.
        #[arg(long)]
        leaf_out: Option<PathBuf>,
    },
    /// Print the consistency proof that the checkpoint of NEW leaves extends that of OLD leaves.
    Consistency {
        /// The older checkpoint's size.
        old: u64,
        /// The newer checkpoint's size.
        new: u64,
    },
    /// Replace names and addresses older than audit.retention_days in the logs with pseudonyms (the log still
    /// verifies).
    Retention {
        /// Say what would change, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write the whole log, cut at the latest checkpoint, in the export format of docs/audit-format.md §8.
    Export {
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn hex_list(hashes: &[[u8; 32]]) -> String {
    hashes.iter().map(hex::encode).collect::<Vec<_>>().join(",")
}

/// An export written from rows that no longer give their sealed leaves fails, after it was written whole.
fn differs(exported: Option<&crate::services::Exported>) -> Result<(), AppError> {
    match exported.and_then(|e| e.first_difference.as_ref()) {
        Some(first) => Err(AppError::Conflict(format!(
            "the export was written, but it will not verify: {first} (run `outreach audit verify`)"
        ))),
        None => Ok(()),
    }
}

fn write_file(path: &PathBuf, bytes: &[u8]) -> Result<(), AppError> {
    std::fs::write(path, bytes).map_err(|e| AppError::Io(format!("{}: {e}", path.display())))
}

pub(super) async fn audit(
    app: &Application,
    actor: &crate::domain::Actor,
    command: AuditCommand,
    out: &mut impl Write,
) -> Result<(), AppError> {
    match command {
        AuditCommand::Retention { dry_run } => {
            let (erased, before) = app.apply_retention(actor, dry_run).await?;
            let verb = if dry_run { "would pseudonymise" } else { "pseudonymised" };
            say!(
                out,
                "{verb} personal data written before {}: {} send-log rows, {} actions, {} consent reasons",
                crate::domain::campaign::schedule::format_local(before, app.settings.schedule.tz()),
                erased.send_log,
                erased.actions,
                erased.consent
            );
        }
        AuditCommand::Key => {
            let (_, signer) = app.audit_signer().await?;
            say!(out, "{}", signer.verifier_key());
        }
        AuditCommand::Seal => {
            let sealed = app.seal().await?;
            say!(out, "sealed {sealed} entries");
        }
        AuditCommand::Checkpoint { size } => {
            app.seal().await?;
            let checkpoint = match size {
                Some(size) => app.store.checkpoint_of_size(size).await?,
                None => app.store.latest_checkpoint().await?,
            };
            let checkpoint = checkpoint.ok_or_else(|| AppError::NotFound("no such checkpoint".into()))?;
            // The note as signed: its bytes are what a verifier checks.
            out.write_all(checkpoint.note.as_bytes()).map_err(super::output_error)?;
        }
        AuditCommand::Verify { against } => {
            let kept = match &against {
                Some(path) => Some(
                    std::fs::read_to_string(path).map_err(|e| AppError::Input(format!("{}: {e}", path.display())))?,
                ),
                None => None,
            };
            let report = app.audit_verify(kept.as_deref()).await?;
            if let Some(problem) = report.problem {
                return Err(AppError::Conflict(format!("the audit log does not verify: {problem}")));
            }
            say!(
                out,
                "OK {} {} ({} checkpoints verified; {} committed entries not yet sealed)",
                report.size,
                STANDARD.encode(report.root),
                report.checkpoints,
                report.pending
            );
        }
        AuditCommand::Prove {
            message_id,
            leaf,
            checkpoint_out,
            leaf_out,
        } => {
            app.seal().await?;
            let leaves = match (message_id, leaf) {
                (_, Some(leaf)) => vec![leaf],
                (Some(id), None) => {
                    let leaves = app.audit_leaves_of_message(&id).await?;
                    if leaves.is_empty() {
                        return Err(AppError::NotFound(format!(
                            "no sealed send-log entry has the Message-ID {id}"
                        )));
                    }
                    leaves
                }
                (None, None) => return Err(AppError::Input("give --message-id or --leaf".into())),
            };
            for index in leaves {
                let proof = app.audit_inclusion(index).await?;
                say!(out, "leaf {}", proof.index);
                say!(out, "size {}", proof.checkpoint.size);
                say!(out, "proof {}", hex_list(&proof.proof));
                say!(out, "entry {}", String::from_utf8_lossy(&proof.leaf));
                if let Some(path) = &leaf_out {
                    write_file(path, &proof.leaf)?;
                }
                if let Some(path) = &checkpoint_out {
                    write_file(path, proof.checkpoint.note.as_bytes())?;
                }
            }
        }
        AuditCommand::Consistency { old, new } => {
            let (_, _, proof) = app.audit_consistency(old, new).await?;
            say!(out, "{}", hex_list(&proof));
        }
        AuditCommand::Export { out: path } => match path {
            None => {
                let exported = app.audit_export(out).await?;
                differs(exported.as_ref())?;
            }
            Some(path) => {
                // Written beside the target and renamed: a failed export never leaves half a file.
                let mut partial = path.clone().into_os_string();
                partial.push(".partial");
                let partial = PathBuf::from(partial);
                let io = |e: std::io::Error| AppError::Io(format!("{}: {e}", path.display()));
                let file = crate::config::files::rewrite_private_file(&partial).map_err(io)?;
                let mut writer = std::io::BufWriter::new(file);
                let written = app.audit_export(&mut writer).await;
                let exported = match written {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = std::fs::remove_file(&partial);
                        return Err(e);
                    }
                };
                if exported.is_none() {
                    let _ = std::fs::remove_file(&partial);
                    say!(out, "the log is empty (nothing sealed yet): no export written");
                    return Ok(());
                }
                writer
                    .into_inner()
                    .map_err(|e| io(e.into_error()))?
                    .sync_all()
                    .map_err(io)?;
                std::fs::rename(&partial, &path).map_err(io)?;
                if let Some(e) = &exported {
                    say!(out, "wrote {} entries to {}", e.checkpoint.size, path.display());
                }
                differs(exported.as_ref())?;
            }
        },
    }
    Ok(())
}
