//! A served instance as users run it: the real binary's `serve`, started in the test's empty folder with only
//! environment variables, with accounts, members and a campaign made through the binary too. The attack suite
//! (tests/it/attack.rs) works against it over HTTP, raw sockets and the command line.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};

use reqwest::StatusCode;
use serde_json::Value;

use super::mime::{Read, read};
use crate::common::{Db, TestEnv};

pub const PASSWORD: &str = "correct horse battery staple";
pub const KEY: &str = "attack-signing-key-0123456789abcdef0123";
pub const STAFF: &str = "staff@example.org";
pub const AUDITOR: &str = "auditor@example.org";
pub const ADMIN: &str = "admin@example.org";
pub const ALICE: &str = "alice@example.jp";
pub const BOB: &str = "bob@example.jp";

pub struct Served {
    pub env: TestEnv,
    serve: Child,
    pub base: String,
    pub http: reqwest::Client,
    /// The newsletter campaign made at the start (telework, monthly).
    pub campaign: i64,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.serve.kill();
        let _ = self.serve.wait();
    }
}

/// A signed-in browser: its cookie and its session's CSRF token.
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

/// Runs the binary with `input` on its standard input; (exit code, stdout, stderr).
pub fn run_with_input(env: &TestEnv, args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = env
        .command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run outreach");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("outreach ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `init`, three accounts, two members (alice on telework, bob on telework and smooth-biz), a monthly
/// telework newsletter, then `serve` on a free port.
pub async fn served(mut env: TestEnv) -> Served {
    env.set("OUTREACH_WEB__SIGNING_KEY", KEY)
        // Short, so the attack on the header timeout takes seconds; the rest is the embedded defaults.
        .set("OUTREACH_WEB__HEADER_READ_TIMEOUT_SECS", "2")
        .set("OUTREACH_WEB__IDLE_TIMEOUT_SECS", "2")
        // A secret that must never show: on the configuration page, in output, in the data folder's modes.
        .set("OUTREACH_SMTP__PASSWORD", "smtp-secret-never-shown");
    let ok = |(code, out, err): (i32, String, String)| {
        assert_eq!(code, 0, "{out}{err}");
        out
    };
    ok(env.run(&["init"]));
    for (email, role) in [(STAFF, "staff"), (AUDITOR, "auditor"), (ADMIN, "admin")] {
        ok(run_with_input(
            &env,
            &["user", "add", "--role", role, "--password-stdin", email],
            &format!("{PASSWORD}\n"),
        ));
    }
    let csv = format!(
        "email,company,contact_name,themes,locale\n{ALICE},株式会社アリス,有栖 花子,telework,ja\n\
         {BOB},ボブ商事,暮 太郎,telework;smooth-biz,ja\n"
    );
    let file = env.write("members.csv", csv);
    ok(env.run(&["members", "import", &file]));
    let campaign = ok(env.create_campaign("telework", "newsletter", &["--cron", "0 9 1 * *"]))
        .trim()
        .parse()
        .expect("campaign id");
    // Under umask 022, as a service started by hand often is: the data folder must stay private anyway.
    let binary = env.command(&["serve"]);
    let mut serve = std::process::Command::new("sh");
    serve
        .args(["-c", "umask 022; exec \"$0\" serve"])
        .arg(binary.get_program())
        .current_dir(env.path())
        .env_clear();
    for (key, value) in binary.get_envs() {
        if let Some(value) = value {
            serve.env(key, value);
        }
    }
    let mut serve = serve
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let stdout = serve.stdout.take().expect("stdout");
    let base = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout).lines().map_while(Result::ok).find_map(|l| {
            l.strip_prefix("listening on ")
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_owned)
        })
    })
    .await
    .expect("reader")
    .expect("serve says where it listens");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Served {
        env,
        serve,
        base,
        http,
        campaign,
    }
}

pub fn csrf_of(html: &str) -> String {
    let after = html.split("name=\"csrf\" value=\"").nth(1).expect("a form with csrf");
    after.split('"').next().expect("token").to_owned()
}

impl Served {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn sign_in(&self, email: &str) -> Browser {
        let answer = self
            .http
            .post(self.url("/sign-in"))
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .expect("sign-in");
        assert_eq!(answer.status(), 303, "sign-in of {email}");
        let set = answer.headers()["set-cookie"].to_str().expect("cookie");
        let cookie = set.split(';').next().expect("cookie").to_owned();
        let home = answer.headers()["location"].to_str().expect("location").to_owned();
        let html = self.get(&cookie, &home).await.1;
        Browser {
            csrf: csrf_of(&html),
            cookie,
        }
    }

    pub async fn get(&self, cookie: &str, path: &str) -> (StatusCode, String) {
        let answer = self
            .http
            .get(self.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .expect("GET");
        (answer.status(), answer.text().await.expect("body"))
    }

    /// A form post with the browser's cookie and CSRF token.
    pub async fn post(&self, b: &Browser, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let mut fields = vec![("csrf", b.csrf.as_str())];
        fields.extend_from_slice(form);
        self.post_raw(&b.cookie, path, &fields, &[]).await
    }

    /// A form post exactly as given: cookie, fields and extra headers.
    pub async fn post_raw(
        &self,
        cookie: &str,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let mut request = self.http.post(self.url(path)).header("cookie", cookie).form(form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer = request.send().await.expect("POST");
        (answer.status(), answer.text().await.expect("body"))
    }

    /// An API token for `user`, made at the command line.
    pub fn token(&self, user: &str) -> String {
        let (code, out, err) = self.env.run(&["token", "create", "--user", user]);
        assert_eq!(code, 0, "{err}");
        out.trim().to_owned()
    }

    /// An API call with a bearer token; (status, JSON body or Null).
    pub async fn api(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .http
            .request(method, self.url(&format!("/api/v1{path}")))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await.expect("API call");
        let status = answer.status();
        (status, answer.json().await.unwrap_or(Value::Null))
    }

    /// A member's id, through the API.
    pub async fn member_id(&self, token: &str, email: &str) -> i64 {
        let (_, page) = self.api(token, "GET", "/members?limit=100", None).await;
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|m| m["email"] == email)
            .and_then(|m| m["id"].as_i64())
            .expect("member listed")
    }

    /// The binary's output; fails the test on a non-zero exit.
    pub fn cli(&self, args: &[&str]) -> String {
        let (code, out, err) = self.env.run(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    }

    /// One statement with one text parameter (`$1`), straight on the database: rows as an older version or
    /// another program may have written them.
    pub async fn sql(&self, statement: &str, value: &str) {
        use sqlx::Connection;
        match self.env.db {
            Db::Sqlite => {
                let mut db = sqlx::SqliteConnection::connect(&self.env.url).await.expect("connect");
                let statement = sqlx::AssertSqlSafe(statement.replace("$1", "?1"));
                sqlx::query(statement)
                    .bind(value)
                    .execute(&mut db)
                    .await
                    .expect("statement");
            }
            Db::Postgres => {
                let mut db = sqlx::PgConnection::connect(&self.env.url).await.expect("connect");
                let statement = sqlx::AssertSqlSafe(statement.to_owned());
                sqlx::query(statement)
                    .bind(value)
                    .execute(&mut db)
                    .await
                    .expect("statement");
            }
        }
    }

    /// The first mail to `to` in the outbox, waiting up to 5 s for it (mail may go out after the answer).
    pub async fn mail_to(&self, to: &str) -> Read {
        for _ in 0..50 {
            if let Some(mail) = self
                .outbox()
                .into_iter()
                .find(|m| m.header("To").is_some_and(|t| t.contains(to)))
            {
                return mail;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no mail to {to} in the outbox");
    }

    /// The mails written to the outbox so far, decoded.
    pub fn outbox(&self) -> Vec<Read> {
        self.outbox_raw().iter().map(|b| read(b)).collect()
    }

    /// The mails written to the outbox so far, as bytes (to read their attachments).
    pub fn outbox_raw(&self) -> Vec<Vec<u8>> {
        let Ok(dir) = std::fs::read_dir(self.env.path().join("outbox")) else {
            return Vec::new();
        };
        dir.filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .filter_map(|e| std::fs::read(e.path()).ok())
            .collect()
    }
}

/// Every `BASE/KIND/TOKEN` link in `text` of the kind `u` or `p`, as a path (`/p/TOKEN`).
pub fn member_links(text: &str, kind: &str) -> Vec<String> {
    let marker = format!("/{kind}/");
    text.match_indices(&marker)
        .map(|(at, _)| {
            let token: String = text[at + marker.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            format!("{marker}{}", token.trim_end_matches('.'))
        })
        .filter(|path| path.len() > marker.len() + 20)
        .collect()
}
