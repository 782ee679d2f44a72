//! The accept loop, in place of `axum::serve`, which has no header-read timeout, no idle limit and no cap on
//! connections: a client sending half a header, or nothing, kept a connection and its file descriptor for
//! ever (issue 15: 1,000 of them stayed open).
//!
//! - `web.header_read_timeout_secs` is hyper's header-read timeout. In hyper 1.x its clock starts whenever
//!   the connection waits for a request (when it opens, and after each answer on a kept-alive connection),
//!   and bytes arriving do not restart it: the whole header must be in by then, or the connection is closed.
//! - `web.idle_timeout_secs` (at most the header timeout) closes a connection on which nothing has arrived
//!   for that long: at once when no request is in flight (a new connection that sends nothing, or one kept
//!   alive between requests), after its answer otherwise.
//! - `web.max_connections`: a connection is accepted only while a slot is free. The others wait in the
//!   system's accept queue and are served when a slot frees, which the two timeouts bound: under an attack
//!   a browser waits a few seconds instead of being refused, and the process never holds more sockets.
//!
//! HTTP/1.1 only: browsers use HTTP/2 only over TLS, which the reverse proxy in front ends.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::Service;

use crate::config::WebSettings;

/// The connection limits of `[web]`, checked at load (so no arithmetic on them overflows).
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    header_read: Duration,
    idle: Duration,
    max_connections: usize,
}

impl Limits {
    pub(super) fn of(web: &WebSettings) -> Self {
        Self {
            header_read: Duration::from_secs(web.header_read_timeout_secs),
            idle: Duration::from_secs(web.idle_timeout_secs),
            max_connections: usize::try_from(web.max_connections).unwrap_or(usize::MAX),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets every connection finish its request
/// in flight (idle ones close at once) before returning.
pub(super) async fn run(
    router: Router,
    listener: TcpListener,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let make = router.into_make_service_with_connect_info::<SocketAddr>();
    // Connections watch `stop`; each holds a clone of `alive`, so the loop knows when the last one is gone.
    let (stop, stopping) = watch::channel(());
    let (tracker, alive) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                let service = connection_service(&make, peer).await;
                let (stopping, alive) = (stopping.clone(), alive.clone());
                tokio::spawn(async move {
                    connection(stream, peer, service, limits, stopping, slot).await;
                    drop(alive);
                });
            }
            Err(e) => refused_accept(&e).await,
        }
    }
    drop(listener);
    drop(stop);
    drop(alive);
    tracker.closed().await;
}

type RouterService = <IntoMakeServiceWithConnectInfo<Router, SocketAddr> as Service<SocketAddr>>::Response;

/// The router with the peer's address as `ConnectInfo`, as `axum::serve` gives it (see `ClientAddress`).
async fn connection_service(
    make: &IntoMakeServiceWithConnectInfo<Router, SocketAddr>,
    peer: SocketAddr,
) -> RouterService {
    match make.clone().call(peer).await {
        Ok(service) => service,
        Err(never) => match never {},
    }
}

/// An error of `accept`: one connection's (it went away before we took it) passes; running out of file
/// descriptors or memory waits a moment instead of spinning.
async fn refused_accept(e: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::warn!(error = %e, "web: cannot accept a connection");
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// One connection, until it ends; its slot is given back when this returns.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    service: RouterService,
    limits: Limits,
    mut stopping: watch::Receiver<()>,
    _slot: OwnedSemaphorePermit,
) {
    let opened = Instant::now();
    let heard = Arc::new(AtomicU64::new(0));
    let io = TokioIo::new(Heard {
        stream,
        opened,
        heard: heard.clone(),
    });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read);
    let conn = builder.serve_connection(io, TowerToHyperService::new(service));
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        let heard_at = heard.load(Ordering::Relaxed);
        let last_heard = opened + Duration::from_millis(heard_at);
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(%peer, error = %e, "web: connection ended");
                }
                return;
            }
            _ = stopping.changed(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            () = tokio::time::sleep_until(last_heard + limits.idle), if !closing => {
                // Bytes may have arrived while this slept: then wait again from them.
                if heard.load(Ordering::Relaxed) == heard_at {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

/// A connection's socket that notes when it last received bytes (milliseconds after `opened`).
struct Heard {
    stream: TcpStream,
    opened: Instant,
    heard: Arc<AtomicU64>,
}

impl AsyncRead for Heard {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            let since = u64::try_from(this.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
            this.heard.store(since, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Heard {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
