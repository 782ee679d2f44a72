//! Raw TCP clients for the connection limits of the web server (tests/it/web_hardening.rs): half a request
//! header, a connection that sends nothing, several requests on one kept-alive connection. A browser or
//! reqwest would hide all of these. And the `outreach web` process they are aimed at.
#![allow(dead_code)]

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Long enough for a loaded CI machine: only a server that never closes waits this long.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The start of a request header with no blank line to end it.
pub const HALF_A_HEADER: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: outreach.example.org\r\n";

pub async fn connect(address: &str) -> TcpStream {
    TcpStream::connect(address).await.expect("connect to the web server")
}

/// What the server sent until it closed the connection (end of stream or reset), or `None` when it was
/// still open after `within`.
pub async fn until_closed(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let reading = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, reading).await.ok().map(|()| got)
}

/// Whether the server closed the connection after sending nothing, or only a 408: either ends a slow client.
pub fn cut_off(sent: &[u8]) -> bool {
    sent.is_empty() || sent.starts_with(b"HTTP/1.1 408")
}

/// One answer read off a kept-alive connection: its status and body (the body is read by Content-Length).
pub async fn read_answer(stream: &mut TcpStream) -> (u16, Vec<u8>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(PATIENCE, stream.read(&mut byte))
            .await
            .expect("an answer in time")
            .expect("read the answer");
        assert_eq!(
            n,
            1,
            "the connection closed mid-answer: {}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
        .expect("a Content-Length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.expect("the body");
    (status, body)
}

/// Sends a whole `GET path` on the connection, kept alive.
pub async fn get(stream: &mut TcpStream, path: &str) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: outreach.example.org\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send a request");
}

/// File descriptors the process `pid` holds (Linux).
pub fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// The `web` process, stopped whatever becomes of the test (an orphan would hold the test's output open).
pub struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
