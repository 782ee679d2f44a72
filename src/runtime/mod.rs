//! The processes: `serve` (scheduler, worker and heartbeat under one supervisor) and `send-due` (fire what is
//! due, drain the queue, exit). Each registers as an instance and heartbeats in database time, so another
//! instance takes over its deliveries within `instance_timeout_secs` if it dies, or at its next claim when it
//! runs on the same machine and finds the process gone (see [`process`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::Application;
use crate::config::{TransportKind, millis, redact_url};
use crate::error::AppError;
use crate::mail::transport::Transport;
use crate::store::{Held, InstanceInfo, Lease, Store};

mod process;
mod scheduler;
mod worker;

pub use scheduler::{Scheduler, SkippedTick, Tick};
pub use worker::{BatchSummary, Step, Worker, WorkerError, WorkerParts};

/// The parts of the runtime an application builds.
impl Application {
    pub fn scheduler(&self) -> Scheduler {
        Scheduler::new(self.store.clone(), self.settings.clone(), self.clock.clone())
    }

    /// A worker claiming for the instance `owner` (see [`crate::runtime::Instance`]).
    pub async fn worker(&self, transport: Arc<dyn Transport>, owner: &str) -> Result<Worker, AppError> {
        self.check_link_key().await?;
        Ok(Worker::new(WorkerParts {
            store: self.store.clone(),
            transport,
            templates: self.templates()?,
            settings: self.settings.clone(),
            clock: self.clock.clone(),
            owner: owner.to_owned(),
            installation: self.installation_id().await?,
            from: self.from_mailbox()?,
            signing_key: self.signing_key()?,
        }))
    }
}

/// What `send-due` reports while it works.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// Deliveries due when sending starts.
    Due(u64),
    Batch(BatchSummary),
}

/// What `send-due` did, and what it left to others.
#[derive(Debug, Clone, Default)]
pub struct SendDue {
    pub tick: Tick,
    pub summary: BatchSummary,
    /// Due deliveries live instances hold at the end (sent by them, or taken over once they die).
    pub held: Vec<Held>,
    /// Log entries sealed into the audit log at the end, and how long that took.
    pub sealed: u64,
    pub seal_time: Duration,
}

/// This process as the database knows it.
pub struct Instance {
    pub id: String,
    store: Store,
}

impl Instance {
    pub async fn register(store: Store, role: &str) -> Result<Self, AppError> {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_owned());
        let pid = std::process::id();
        let id = format!("{host}-{pid}-{:04x}", rand::random::<u16>());
        store
            .register_instance(&InstanceInfo {
                id: id.clone(),
                host,
                pid: i64::from(pid),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                role: role.to_owned(),
                process: process::own_identity(),
            })
            .await?;
        Ok(Self { id, store })
    }

    /// Says goodbye: this instance holds nothing any more.
    pub async fn stop(&self) {
        if let Err(e) = self.store.stop_instance(&self.id).await {
            tracing::warn!(error = %e, "could not mark the instance stopped; it will look dead after the timeout");
        }
    }
}

/// Heartbeats until the task is dropped: renews the worker's leases, closes idle SMTP connections, and
/// reloads the templates when `outreach reload` asked. Database outages are logged once each.
async fn heartbeat(app: Arc<Application>, instance: String, worker: Worker, transport: Arc<dyn Transport>) {
    let every = Duration::from_secs(app.settings.delivery.heartbeat_secs);
    let lease_ms = millis(app.settings.delivery.lease_secs);
    let mut down = false;
    loop {
        let at = Instant::now();
        match app.store.heartbeat(&instance, lease_ms).await {
            Ok(reload) => {
                worker.leases_renewed(at);
                if down {
                    tracing::warn!("heartbeat: the database is back");
                    down = false;
                }
                if reload {
                    reload_templates(&app, &worker);
                }
            }
            Err(e) => {
                if !down {
                    tracing::error!(error = %e, "heartbeat failed: other instances will take this one's mail over \
                                                 if the database stays away past instance_timeout_secs");
                    down = true;
                }
            }
        }
        transport.sweep().await;
        tokio::time::sleep(every.saturating_sub(at.elapsed())).await;
    }
}

/// Compiles the templates anew; one that no longer compiles is refused and the set in use stays.
pub fn reload_templates(app: &Application, worker: &Worker) {
    match app.reload_templates() {
        Ok(templates) => {
            worker.set_templates(templates);
            tracing::info!("templates reloaded");
        }
        Err(e) => tracing::error!("templates not reloaded, the previous set stays in use: {e}"),
    }
}

/// `send-due`: fire what is due, drain the queue, report what others hold; with `wait`, wait for it too.
pub async fn send_due(
    app: Arc<Application>,
    wait: bool,
    mut progress: impl FnMut(Progress),
) -> Result<SendDue, AppError> {
    let transport = app.transport()?;
    let instance = Instance::register(app.store.clone(), "send-due").await?;
    let worker = app.worker(transport.clone(), &instance.id).await?;
    let beat = tokio::spawn(heartbeat(
        app.clone(),
        instance.id.clone(),
        worker.clone(),
        transport.clone(),
    ));
    let result = async {
        let tick = app.scheduler().fire_due().await?;
        let lease = Lease::of(&app.settings.delivery);
        // Before counting, so that what a dead process of this machine held counts as due.
        process::find_gone_neighbours(&app.store, &instance.id, lease.instance_timeout_ms).await?;
        progress(Progress::Due(
            u64::try_from(app.store.due_count(app.now(), lease).await?).unwrap_or(0),
        ));
        let mut summary = BatchSummary::default();
        let timeout_ms = lease.instance_timeout_ms;
        let held = loop {
            summary.add(worker.drain_with(|batch| progress(Progress::Batch(*batch))).await?);
            let held = app.store.held_elsewhere(&instance.id, timeout_ms).await?;
            if held.is_empty() || !wait {
                break held;
            }
            // Held by a live instance: it sends them, or dies and its deliveries become ours to take.
            tokio::time::sleep(Duration::from_secs(app.settings.delivery.heartbeat_secs)).await;
        };
        // What this process wrote is in the verifiable log, under a signed checkpoint, before it says done.
        let sealing = Instant::now();
        let sealed = app.seal().await?;
        Ok::<_, AppError>(SendDue {
            tick,
            summary,
            held,
            sealed,
            seal_time: sealing.elapsed(),
        })
    }
    .await;
    beat.abort();
    transport.close().await;
    instance.stop().await;
    let done = result?;
    if done.summary.sent == 0 && done.summary.unreachable > 0 {
        return Err(AppError::Unavailable(format!(
            "the mail server {}:{} could not be reached: nothing was sent, {} deliveries wait for a retry",
            app.settings.smtp.host, app.settings.smtp.port, done.summary.deferred
        )));
    }
    Ok(done)
}

/// `serve`: scheduler, worker and heartbeat under one supervisor until `shutdown` resolves. A part that fails
/// for good ends the process with its reason (a non-zero exit), so systemd or Kubernetes restarts it.
pub async fn serve(app: Arc<Application>, shutdown: impl std::future::Future<Output = ()>) -> Result<(), AppError> {
    // The port first: a port already taken stops serve before it claims any mail.
    let listener = crate::web::bind(&app).await?;
    let transport = app.transport()?;
    let instance = Instance::register(app.store.clone(), "serve").await?;
    let worker = app.worker(transport.clone(), &instance.id).await?;
    let internal = |e: tokio_cron_scheduler::JobSchedulerError| AppError::Internal(format!("scheduler: {e}"));
    let mut cron = JobScheduler::new().await.map_err(internal)?;
    let every = app.settings.schedule.tick_secs;
    let scheduler = Arc::new(app.scheduler());
    let busy = Arc::new(tokio::sync::Mutex::new(()));
    let job = {
        let scheduler = scheduler.clone();
        Job::new_async(format!("*/{every} * * * * *"), move |_, _| {
            let scheduler = scheduler.clone();
            let busy = busy.clone();
            Box::pin(async move {
                // A slow look at the schedule must not overlap the next one.
                let Ok(_guard) = busy.try_lock() else { return };
                if let Err(e) = scheduler.fire_due().await {
                    tracing::error!(error = %e, "scheduler tick failed");
                }
            })
        })
        .map_err(internal)?
    };
    cron.add(job).await.map_err(internal)?;
    // One look before the first alarm, so catch-up after a downtime happens at start.
    if let Err(e) = scheduler.fire_due().await {
        tracing::error!(error = %e, "scheduler tick failed");
    }
    cron.start().await.map_err(internal)?;

    let mut parts: JoinSet<(&'static str, Result<(), AppError>)> = JoinSet::new();
    {
        let worker = worker.clone();
        parts.spawn(async move {
            (
                "worker",
                worker.run(Duration::from_millis(200)).await.map_err(AppError::from),
            )
        });
    }
    let web_stop = Arc::new(tokio::sync::Notify::new());
    {
        let (app, stop) = (app.clone(), web_stop.clone());
        parts.spawn(async move {
            let stopped = async move { stop.notified().await };
            ("web", crate::web::serve(app, listener, stopped).await)
        });
    }
    let beat = tokio::spawn(heartbeat(
        app.clone(),
        instance.id.clone(),
        worker.clone(),
        transport.clone(),
    ));
    let hangup = tokio::spawn(reload_on_hangup(app.clone(), worker.clone()));
    let sealer = tokio::spawn(seal_every(app.clone(), transport.clone()));
    tracing::info!(
        version = %env!("CARGO_PKG_VERSION"),
        instance = %instance.id,
        database = %redact_url(&app.settings.database.url),
        mail = %mail_target(&app.settings),
        data = %app.settings.data_dir.display(),
        "serving: scheduler every {every}s"
    );
    tokio::pin!(shutdown);
    let outcome = tokio::select! {
        _ = &mut shutdown => Ok(()),
        Some(ended) = parts.join_next() => Err(match ended {
            Ok((part, Ok(()))) => AppError::Internal(format!("{part} stopped unexpectedly")),
            Ok((part, Err(e))) => AppError::Internal(format!("{part} failed: {e}")),
            Err(e) => AppError::Internal(format!("a part of serve panicked: {e}")),
        }),
    };
    tracing::info!("stopping: no new claims; what is not on the wire goes back to the queue");
    worker.stop();
    web_stop.notify_one();
    let grace = Duration::from_secs(app.settings.delivery.shutdown_grace_secs);
    let finished = tokio::time::timeout(grace, async { while parts.join_next().await.is_some() {} })
        .await
        .is_ok();
    let _ = cron.shutdown().await;
    beat.abort();
    hangup.abort();
    sealer.abort();
    if let Err(e) = app.seal().await {
        tracing::warn!(error = %e, "could not seal the audit log at shutdown; the next process seals it");
    }
    transport.close().await;
    if finished {
        instance.stop().await;
    } else {
        // What is still on the wire keeps its lease and is taken over as after a crash.
        tracing::warn!("shutdown grace ran out; deliveries still in flight are taken over by another instance");
    }
    if let Err(e) = &outcome {
        tracing::error!("{e}");
    }
    outcome
}

/// Seals committed log rows into the verifiable log every `audit.seal_secs`, until the task is dropped. Sending
/// never waits for it: rows are queued by the database in their own transaction and sealed here after. With
/// several instances, the one that finds the log's state row locked leaves the work to the one sealing.
/// After each seal, today's checkpoint goes to the witnesses who have not had one today.
async fn seal_every(app: Arc<Application>, transport: Arc<dyn Transport>) {
    let every = Duration::from_secs(app.settings.audit.seal_secs);
    let mut failing = false;
    loop {
        tokio::time::sleep(every).await;
        let done = async {
            app.seal().await?;
            app.mail_witnesses(transport.as_ref()).await
        };
        match done.await {
            Ok(_) if failing => {
                tracing::warn!("audit log: sealing works again");
                failing = false;
            }
            Ok(_) => {}
            Err(e) => {
                if !failing {
                    tracing::error!(error = %e, "audit log: sealing failed; rows wait and are sealed when it works");
                }
                failing = true;
            }
        }
    }
}

/// SIGHUP reloads the templates, as `outreach reload` does through the database.
async fn reload_on_hangup(app: Arc<Application>, worker: Worker) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            return;
        };
        while hangups.recv().await.is_some() {
            reload_templates(&app, &worker);
        }
    }
}

/// Where mail goes, for the start line: the SMTP server, or the outbox folder.
fn mail_target(settings: &crate::config::Settings) -> String {
    match settings.delivery.transport {
        TransportKind::Smtp => format!(
            "smtp://{}:{} ({:?})",
            settings.smtp.host, settings.smtp.port, settings.smtp.security
        ),
        TransportKind::File => format!("outbox {}", settings.delivery.outbox.display()),
    }
}
