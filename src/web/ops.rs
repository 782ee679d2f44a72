//! For load balancers and monitoring: `/healthz` (the process answers), `/readyz` (the database answers and has
//! every migration of this binary) and `/metrics` (OpenMetrics text, which Prometheus reads).

use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::state::Web;
use crate::config::millis;

/// A check that takes longer than this counts as the database not answering.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

pub(super) async fn healthz() -> &'static str {
    "ok\n"
}

pub(super) async fn readyz(State(web): State<Web>) -> Response {
    match tokio::time::timeout(CHECK_TIMEOUT, web.app.store.missing_migration()).await {
        Ok(Ok(None)) => (StatusCode::OK, "ready\n").into_response(),
        Ok(Ok(Some(version))) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: the database lacks migration {version}\n"),
        )
            .into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readyz: the database failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the database does not answer\n",
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the database does not answer in time\n",
        )
            .into_response(),
    }
}

type Labels = Vec<(String, String)>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

pub(super) async fn metrics(State(web): State<Web>) -> Response {
    let timeout = millis(web.app.settings.delivery.instance_timeout_secs);
    let gauges = match tokio::time::timeout(CHECK_TIMEOUT, web.app.store.gauges(timeout)).await {
        Ok(Ok(g)) => g,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "metrics: the database failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "the database does not answer\n").into_response();
        }
        Err(_) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database does not answer in time\n",
            )
                .into_response();
        }
    };
    let mut registry = Registry::with_prefix("outreach");
    let mails = Family::<Labels, Counter>::default();
    for (channel, outcome, n) in &gauges.mails {
        mails
            .get_or_create(&labels(&[("channel", channel), ("outcome", outcome)]))
            .inc_by(u64::try_from(*n).unwrap_or(0));
    }
    registry.register(
        "mail_attempts",
        "Delivery attempts in the send log, by channel and outcome",
        mails,
    );
    let replies = Family::<Labels, Counter>::default();
    for (class, n) in &gauges.replies {
        replies
            .get_or_create(&labels(&[("class", class)]))
            .inc_by(u64::try_from(*n).unwrap_or(0));
    }
    registry.register(
        "smtp_replies",
        "SMTP replies in the send log by class (none: no reply was read)",
        replies,
    );
    let queue = Family::<Labels, Gauge>::default();
    for status in ["queued", "sending"] {
        let n = gauges.queue.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
        queue.get_or_create(&labels(&[("status", status)])).set(n);
    }
    registry.register("queue_deliveries", "Deliveries not yet settled, by status", queue);
    let runs = Family::<Labels, Gauge>::default();
    for (status, n) in &gauges.runs {
        runs.get_or_create(&labels(&[("status", status)])).set(*n);
    }
    registry.register("runs", "Runs by status", runs);
    let seconds = |ms: i64| {
        let g = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        // Milliseconds as seconds; precision beyond f64's is of no interest here.
        #[allow(clippy::cast_precision_loss)]
        g.set(ms as f64 / 1000.0);
        g
    };
    registry.register(
        "oldest_due_delivery_age_seconds",
        "How long the oldest delivery due now has waited",
        seconds(gauges.oldest_due_ms),
    );
    registry.register(
        "scheduler_lag_seconds",
        "How late the last scheduled run started after its tick",
        seconds(gauges.scheduler_lag_ms),
    );
    let live = Gauge::<i64>::default();
    live.set(gauges.live_instances);
    registry.register(
        "live_instances",
        "serve and send-due processes with a recent heartbeat",
        live,
    );
    // This process's own work: a page or API request should read the plan once at most, and compile nothing.
    let plans = Counter::<u64>::default();
    plans.inc_by(web.app.store.plan_loads());
    registry.register("plan_loads", "Plans read from the database by this process", plans);
    let compiles = Counter::<u64>::default();
    compiles.inc_by(web.app.template_compiles());
    registry.register(
        "template_compiles",
        "Times this process compiled the mail templates (once, then on each reload)",
        compiles,
    );
    let mut text = String::new();
    if let Err(e) = encode(&mut text, &registry) {
        tracing::error!(error = %e, "metrics: encoding failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// `GET /audit/checkpoint`: the latest signed checkpoint of the verifiable log, public (it holds a size, a root
/// and a time, no personal data), for witnesses and monitors to keep; the log must extend every one they kept.
pub(super) async fn audit_checkpoint(State(web): State<Web>) -> Response {
    match tokio::time::timeout(CHECK_TIMEOUT, web.app.store.latest_checkpoint()).await {
        Ok(Ok(Some(checkpoint))) => plain_text(StatusCode::OK, checkpoint.note),
        Ok(Ok(None)) => plain_text(StatusCode::NOT_FOUND, "no checkpoint yet: nothing is sealed\n".into()),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "audit checkpoint: the database failed");
            plain_text(StatusCode::SERVICE_UNAVAILABLE, "the database does not answer\n".into())
        }
        Err(_) => plain_text(
            StatusCode::SERVICE_UNAVAILABLE,
            "the database does not answer in time\n".into(),
        ),
    }
}

/// `GET /audit/key`: the note verifier key the checkpoints are signed with, public.
pub(super) async fn audit_key(State(web): State<Web>) -> Response {
    match web.app.audit_verifier_keys().await {
        Ok(keys) => plain_text(StatusCode::OK, keys.join("\n") + "\n"),
        Err(e) => {
            tracing::warn!(error = %e, "audit key: not available");
            plain_text(StatusCode::SERVICE_UNAVAILABLE, "the key is not available\n".into())
        }
    }
}

fn plain_text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}
