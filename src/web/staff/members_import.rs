//! `GET/POST /staff/members/import`: a member CSV uploaded in two steps, with the command line's rules. The
//! upload is checked as a dry run that imports nothing and lists every refused row by line; the import
//! button then imports that same file.
//!
//! Between the two steps the file stays on the server, in memory, keyed by the session and the SHA-256 of
//! its content; the confirmation form carries only that hash. A kept file expires after 30 minutes, and at
//! most `KEPT` files are kept (the oldest go first), so memory stays bounded. A file that is gone (expired,
//! the server restarted, or another instance behind a load balancer answered) is asked for again, never
//! guessed. The route takes bodies of up to `layers::UPLOAD_LIMIT_BYTES` (every other route: 64 KiB).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::http::header::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::super::role::Staff;
use super::super::said::said;
use super::super::session::{Refusal, Signed, SignedInUser, csrf_matches, forbidden, same_origin};
use super::super::state::Web;
use super::super::status::{BAD_INPUT, status_of};
use super::frame::{Lang, frame, page};
use super::import_problems::say_all_named;
use super::kit::{ThemeNames, actor, failure, page_with};
use crate::services::CsvImport;

pub(in crate::web) const UPLOAD_PATH: &str = "/staff/members/import";
const KEPT: usize = 16;
const KEEP_FOR: Duration = Duration::from_secs(30 * 60);

/// Files between the dry run and the import: (session hash, content hash) → (when kept, content).
type Kept = HashMap<(String, String), (Instant, Vec<u8>)>;
static KEPT_FILES: LazyLock<Mutex<Kept>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn session_key(signed_in: &SignedInUser) -> String {
    hex::encode(Sha256::digest(&signed_in.session_id))
}

fn keep(signed_in: &SignedInUser, content: Vec<u8>) -> String {
    let hash = hex::encode(Sha256::digest(&content));
    let Ok(mut kept) = KEPT_FILES.lock() else {
        return hash;
    };
    kept.retain(|_, (at, _)| at.elapsed() < KEEP_FOR);
    while kept.len() >= KEPT {
        let oldest = kept.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| k.clone());
        match oldest {
            Some(key) => kept.remove(&key),
            None => break,
        };
    }
    kept.insert((session_key(signed_in), hash.clone()), (Instant::now(), content));
    hash
}

fn take(signed_in: &SignedInUser, hash: &str) -> Option<Vec<u8>> {
    let mut kept = KEPT_FILES.lock().ok()?;
    let (at, content) = kept.remove(&(session_key(signed_in), hash.to_owned()))?;
    (at.elapsed() < KEEP_FOR).then_some(content)
}

/// The route, to be given its own body limit by the caller.
pub(in crate::web) fn routes() -> Router<Web> {
    Router::new().route(UPLOAD_PATH, get(form).post(upload))
}

async fn form(State(web): State<Web>, signed_in: Signed<Staff>, headers: HeaderMap) -> Response {
    let context = context(&web, &signed_in, Lang::of(&headers));
    page(&web, "staff/members-import", &context)
}

fn context(web: &Web, signed_in: &SignedInUser, lang: Lang) -> Value {
    let mut context = frame(web, signed_in, lang, &lang.t("import-members"), "/staff/members");
    context["message"] = "".into();
    context["checked"] = Value::Null;
    context["done"] = Value::Null;
    context
}

/// The fields of the multipart form.
#[derive(Default)]
struct Upload {
    csrf: String,
    file: Option<Vec<u8>>,
    name: String,
    confirm: String,
}

async fn read(mut multipart: Multipart) -> Result<Upload, String> {
    let mut upload = Upload::default();
    while let Some(field) = multipart.next_field().await.map_err(|e| e.body_text())? {
        match field.name().unwrap_or_default() {
            "csrf" => upload.csrf = field.text().await.map_err(|e| e.body_text())?,
            "confirm" => upload.confirm = field.text().await.map_err(|e| e.body_text())?,
            "file" => {
                upload.name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(|e| e.body_text())?;
                upload.file = (!bytes.is_empty()).then(|| bytes.to_vec());
            }
            _ => {}
        }
    }
    Ok(upload)
}

/// The checks of `StaffForm` (a multipart body is not a form it reads): a live session of a staff user (the
/// extractor), our own origin, the session's CSRF token.
async fn upload(State(web): State<Web>, signed_in: Signed<Staff>, request: Request) -> Response {
    let lang = Lang::of(request.headers());
    if !same_origin(request.headers(), &web.app.settings.web.base_url) {
        return forbidden(&web, lang, Refusal::ForeignOrigin);
    }
    let upload = match Multipart::from_request(request, &web).await {
        Ok(multipart) => read(multipart).await,
        Err(e) => Err(e.body_text()),
    };
    let upload = match upload {
        Ok(upload) => upload,
        Err(why) => {
            let mut context = context(&web, &signed_in, lang);
            context["message"] = format!("{} ({why})", lang.t("the-file-could-not-be-read")).into();
            return page_with(&web, BAD_INPUT, "staff/members-import", &context);
        }
    };
    if !csrf_matches(&signed_in.csrf, &upload.csrf) {
        return forbidden(&web, lang, Refusal::Csrf);
    }
    let app = &web.app;
    let mut context = context(&web, &signed_in, lang);
    if let Some(content) = upload.file {
        // Step 1: the dry run.
        let checked = match app.import_members(&actor(&signed_in), &content, true, false).await {
            Ok(checked) => checked,
            Err(e) if e.kind() == crate::error::ErrorKind::Invalid => {
                context["message"] = said(lang, &e).into();
                return page_with(&web, status_of(e.kind()), "staff/members-import", &context);
            }
            Err(e) => return failure(&web, &signed_in, lang, "/staff/members", &e),
        };
        let importable = checked.rejected.is_empty() && checked.valid > 0;
        // Refused rows name the plan's themes next to their slugs; without the plan, the slugs alone.
        let themes = if checked.rejected.is_empty() {
            None
        } else {
            ThemeNames::of(app, lang).await.ok()
        };
        let theme_name = |slug: &str| themes.as_ref().map(|names| names.name(slug));
        let rejected: Vec<Value> = checked
            .rejected
            .iter()
            .map(|r| json!({"line": r.line, "reason": say_all_named(lang, &theme_name, r)}))
            .collect();
        let hash = if importable {
            keep(&signed_in, content)
        } else {
            String::new()
        };
        context["checked"] = json!({
            "name": upload.name,
            "valid": checked.valid,
            "rejected": rejected,
            "rejected_count": checked.rejected.len(),
            "hash": hash,
        });
        let status = if checked.rejected.is_empty() {
            StatusCode::OK
        } else {
            BAD_INPUT
        };
        return page_with(&web, status, "staff/members-import", &context);
    }
    if upload.confirm.is_empty() {
        context["message"] = lang.t("please-choose-a-csv-file").into();
        return page_with(&web, BAD_INPUT, "staff/members-import", &context);
    }
    // Step 2: the import of the file checked in step 1.
    let Some(content) = take(&signed_in, &upload.confirm) else {
        context["message"] = lang.t("the-checked-file-is-no-longer").into();
        return page_with(&web, StatusCode::CONFLICT, "staff/members-import", &context);
    };
    match app.import_members(&actor(&signed_in), &content, false, false).await {
        Ok(CsvImport {
            report,
            imported,
            rejected,
            ..
        }) if imported && rejected.is_empty() => {
            context["done"] = json!({
                "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
                "kept": report.kept_unsubscribed.len(),
            });
            page(&web, "staff/members-import", &context)
        }
        Ok(_) => {
            context["message"] = lang.t("nothing-was-imported").into();
            page_with(&web, BAD_INPUT, "staff/members-import", &context)
        }
        Err(e) => failure(&web, &signed_in, lang, "/staff/members", &e),
    }
}
