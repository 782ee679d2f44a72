//! Load check of the member pages (run by `tests/bench/web.sh`, not a test): one-click unsubscribe POSTs per
//! second, each for another member, next to GETs of `/healthz` on the same server as the yardstick.
//!
//!   web_load ADDRESS KEY MEMBERS SECONDS CONCURRENCY

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use outreach::mail::context::Links;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, address, key, members, seconds, concurrency] = args.as_slice() else {
        eprintln!("usage: web_load ADDRESS KEY MEMBERS SECONDS CONCURRENCY");
        std::process::exit(1);
    };
    let members: i64 = members.parse().expect("MEMBERS");
    let seconds: u64 = seconds.parse().expect("SECONDS");
    let concurrency: usize = concurrency.parse().expect("CONCURRENCY");
    let base = format!("http://{address}");
    let expires_day = chrono::Utc::now().timestamp() / 86_400 + 90;
    let urls: Arc<Vec<String>> = Arc::new(
        (1..=members)
            .map(|id| {
                format!(
                    "{base}{}",
                    Links::for_member("", key.as_bytes(), id, "telework", expires_day).unsubscribe
                )
            })
            .collect(),
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");

    let healthz = format!("{base}/healthz");
    let client = http.clone();
    let (n, s) = hammer(concurrency, Duration::from_secs(seconds), move |_| {
        let http = &client;
        let (http, url) = (http.clone(), healthz.clone());
        async move { http.get(url).send().await.map(|r| r.status().as_u16()).unwrap_or(0) }
    })
    .await;
    println!(
        "GET /healthz (yardstick): {n} in {s:.1} s = {:.0} requests/s",
        n as f64 / s
    );

    let next = Arc::new(AtomicU64::new(0));
    let (n, s) = hammer(concurrency, Duration::from_secs(seconds), move |_| {
        let (http, urls, next) = (http.clone(), urls.clone(), next.clone());
        async move {
            let i = next.fetch_add(1, Ordering::Relaxed) as usize % urls.len();
            http.post(&urls[i])
                .header("content-type", "application/x-www-form-urlencoded")
                .body("List-Unsubscribe=One-Click")
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }
    })
    .await;
    println!(
        "POST /u/TOKEN one-click: {n} in {s:.1} s = {:.0} requests/s",
        n as f64 / s
    );
}

/// Runs `request` from `concurrency` tasks for `span`; how many answered 200 and the seconds taken. Any other
/// answer stops the run: a load check that counts errors as throughput measures nothing.
async fn hammer<F, Fut>(concurrency: usize, span: Duration, request: F) -> (u64, f64)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = u16> + Send,
{
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|i| {
            let (request, done) = (request.clone(), done.clone());
            tokio::spawn(async move {
                while start.elapsed() < span {
                    let status = request(i).await;
                    assert_eq!(status, 200, "the server answered {status}");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("a load task failed");
    }
    (done.load(Ordering::Relaxed), start.elapsed().as_secs_f64())
}
