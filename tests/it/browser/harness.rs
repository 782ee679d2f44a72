//! A real browser for the tests: headless Chromium driven over WebDriver (`chromedriver`, started by each test on
//! a free port) with `fantoccini`, against the app's router served on port 0 with a real database.
//!
//! A flow in a few lines:
//!
//! ```ignore
//! let Some(b) = Browser::start().await else { return };      // None: not run (said why; fails under CI)
//! let base = serve(app.clone()).await;                         // or `listener()` first, then `serve_on`
//! b.sign_in(&base, "staff@example.org", "password").await;    // through the form, lands on its page
//! b.goto(&format!("{base}/staff/campaigns")).await;           // a URL, or a path on the last base
//! b.fill("名前", "テスト配信").await;                           // a field by its label's text, or CSS
//! b.click("保存").await;                                       // a button or link by its text, or CSS
//! b.wait_text("main", "保存しました", WAIT).await;             // polls until the element shows the text
//! assert!(b.text("h1").await.contains("…"));                 // an element's visible text
//! b.phone().await;                                            // a 390×844 viewport (`desktop()` back)
//! b.axe().await;                                              // fails listing serious/critical violations
//! b.screenshot("staff-dashboard").await;                      // docs/screenshots/staff-dashboard.png
//! b.client()                                                  // fantoccini for anything else
//! ```
//!
//! Every helper panics with the page's URL and what it was looking for: these are test helpers. Screenshots are
//! written only with `OUTREACH_SCREENSHOTS=1` (so a test run leaves the worktree as it was); they are taken
//! either way, so a broken screenshot fails every run.
//!
//! Without `chromedriver` or Chromium (or the axe-core file named by `OUTREACH_AXE_JS`), `Browser::start`
//! prints `browser tests did not run: <reason>` and returns None; with `CI` set it panics instead.
//! `OUTREACH_CHROMEDRIVER` and `OUTREACH_CHROMIUM` override where they are looked for (default: on `PATH`).
#![allow(dead_code)]

use std::net::TcpListener as StdListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// How long the helpers wait for a page to show something.
pub const WAIT: Duration = Duration::from_secs(10);
/// The desktop window, and the phone-sized viewport of `phone()`.
pub const DESKTOP: (u32, u32) = (1280, 900);
pub const PHONE: (u32, u32) = (390, 844);

/// A free port on 127.0.0.1, bound, and its base URL: bind first when the app must know its own address
/// (`web.base_url`), then `serve_on`.
pub async fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    (listener, base)
}

/// Serves the app's router (member pages, sign-in, staff pages) on `listener`.
pub fn serve_on(app: Arc<outreach::Application>, listener: TcpListener) {
    tokio::spawn(outreach::web::serve(app, listener, std::future::pending()));
}

/// Serves the app's router on a free port; its base URL.
pub async fn serve(app: Arc<outreach::Application>) -> String {
    let (listener, base) = listener().await;
    serve_on(app, listener);
    base
}

/// Not run (no browser here): said, and None; under CI a failure.
fn not_run(reason: &str) -> Option<Browser> {
    if std::env::var_os("CI").is_some() {
        panic!("CI is set but the browser tests cannot run: {reason}");
    }
    eprintln!("browser tests did not run: {reason}");
    None
}

/// A program named by `var`, or found on `PATH` under one of `names`.
fn program(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    let socket = StdListener::bind("127.0.0.1:0").expect("bind a free port");
    socket.local_addr().expect("local address").port()
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .map(|ids| ids.split_whitespace().next() == Some("0"))
        })
        .unwrap_or(false)
}

/// A headless Chromium session, its chromedriver and its profile folder; dropping it ends both processes.
pub struct Browser {
    client: Client,
    driver: Child,
    profile: tempfile::TempDir,
    axe_js: String,
    /// The base URL of the last absolute `goto`: paths are taken on it.
    base: std::sync::Mutex<String>,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium at the desktop size; None (said why) when this machine has
    /// no browser or no axe-core, outside CI.
    pub async fn start() -> Option<Browser> {
        let Some(driver_path) = program("OUTREACH_CHROMEDRIVER", &["chromedriver"]) else {
            return not_run("chromedriver is not on PATH (Debian: apt-get install chromium-driver)");
        };
        let Some(chromium) = program("OUTREACH_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]) else {
            return not_run("chromium is not on PATH (Debian: apt-get install chromium)");
        };
        let axe_js = match std::env::var("OUTREACH_AXE_JS") {
            Ok(path) if !path.is_empty() => match std::fs::read_to_string(&path) {
                Ok(source) => source,
                Err(e) => return not_run(&format!("OUTREACH_AXE_JS={path}: {e}")),
            },
            _ => {
                return not_run(
                    "OUTREACH_AXE_JS is not set (npm install axe-core@4; the path of node_modules/axe-core/axe.min.js)",
                );
            }
        };
        let port = free_port();
        let driver = match Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: dropping the browser ends chromedriver and the Chromium it started.
            .process_group(0)
            .spawn()
        {
            Ok(child) => child,
            Err(e) => return not_run(&format!("{}: {e}", driver_path.display())),
        };
        let profile = tempfile::tempdir().expect("a profile folder");
        let mut args = vec![
            "--headless=new".to_owned(),
            format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
            format!("--user-data-dir={}", profile.path().display()),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-first-run".to_owned(),
            "--no-default-browser-check".to_owned(),
            // This machine's network is closed: without these, Chromium keeps trying Google's hosts.
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-quic".to_owned(),
            "--lang=ja".to_owned(),
        ];
        if running_as_root() {
            args.push("--no-sandbox".to_owned());
        }
        let capabilities = json!({
            "goog:chromeOptions": { "binary": chromium.display().to_string(), "args": args },
        });
        let mut builder = ClientBuilder::new(HttpConnector::new());
        if let Value::Object(map) = capabilities {
            builder.capabilities(map);
        }
        let url = format!("http://127.0.0.1:{port}");
        // chromedriver takes a moment to listen.
        let started = Instant::now();
        let client = loop {
            match builder.connect(&url).await {
                Ok(client) => break client,
                Err(e) if started.elapsed() > Duration::from_secs(20) => {
                    let mut driver = driver;
                    kill_group(&mut driver, profile.path());
                    panic!("chromedriver at {url} ({}) gave no session: {e}", driver_path.display());
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Some(Browser {
            client,
            driver,
            profile,
            axe_js,
            base: std::sync::Mutex::new(String::new()),
        })
    }

    /// fantoccini's client, for what the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The page's URL now.
    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// Opens `url`: absolute, or a path on the base of the last absolute URL.
    pub async fn goto(&self, url: &str) {
        let url = if url.starts_with('/') {
            format!("{}{url}", self.base.lock().expect("base").as_str())
        } else {
            if let Some((scheme, rest)) = url.split_once("://") {
                let authority = rest.split('/').next().unwrap_or_default();
                *self.base.lock().expect("base") = format!("{scheme}://{authority}");
            }
            url.to_owned()
        };
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// Signs in through the form at `base/sign-in` and waits until the browser has left the form.
    pub async fn sign_in(&self, base: &str, email: &str, password: &str) {
        self.goto(&format!("{base}/sign-in")).await;
        self.fill("input[name=email]", email).await;
        self.fill("input[name=password]", password).await;
        self.click("form[action='/sign-in'] button[type=submit]").await;
        let left = self.wait_until(|url| !url.contains("/sign-in")).await;
        assert!(
            left,
            "still on the sign-in page after signing in as {email}: {}",
            self.body().await
        );
    }

    /// Waits (up to `WAIT`) until the page's URL satisfies `ok`; whether it did.
    pub async fn wait_until(&self, ok: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + WAIT;
        loop {
            if ok(&self.url().await) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The form control whose `<label>` contains `label_or_css` (by `for`, or inside the label), else the
    /// element the CSS selector finds.
    pub async fn control(&self, label_or_css: &str) -> Element {
        let xpath = format!("//label[contains(normalize-space(.), {})]", xpath_literal(label_or_css));
        if let Ok(labels) = self.client.find_all(Locator::XPath(&xpath)).await
            && let Some(label) = labels.into_iter().next()
        {
            if let Ok(Some(id)) = label.attr("for").await
                && let Ok(control) = self.client.find(Locator::Id(&id)).await
            {
                return control;
            }
            if let Ok(control) = label.find(Locator::Css("input, select, textarea")).await {
                return control;
            }
        }
        self.find(label_or_css).await
    }

    /// The first element `css` finds (waiting up to `WAIT` for it to appear).
    pub async fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.client.find(Locator::Css(css)).await {
                Ok(element) => return element,
                Err(e) if Instant::now() > deadline => {
                    panic!("no element {css:?} on {}: {e}\n{}", self.url().await, self.body().await)
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Types `value` into a field found by its label or CSS, after clearing it: key by key, as a person types.
    pub async fn fill(&self, label_or_css: &str, value: &str) {
        let control = self.control(label_or_css).await;
        control
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear {label_or_css:?}: {e}"));
        control
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into {label_or_css:?}: {e}"));
    }

    /// Clicks the button or link whose text is `text_or_css` (exactly, else containing it), else the element the
    /// CSS selector finds. A click that submits a form returns once the next page has loaded.
    pub async fn click(&self, text_or_css: &str) {
        let literal = xpath_literal(text_or_css);
        let clickable = "self::button or self::a or self::summary";
        let exact = format!("//*[({clickable}) and normalize-space(.)={literal}]");
        let containing = format!("//*[({clickable}) and contains(normalize-space(.), {literal})]");
        let mut target = None;
        for xpath in [exact, containing] {
            if let Ok(found) = self.client.find_all(Locator::XPath(&xpath)).await
                && let Some(element) = found.into_iter().next()
            {
                target = Some(element);
                break;
            }
        }
        let element = match target {
            Some(element) => element,
            None => self.find(text_or_css).await,
        };
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {text_or_css:?}: {e}"));
    }

    /// The visible text of the first element `css` finds.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap_or_default()
    }

    /// The whole page's visible text.
    pub async fn body(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until the first element `css` finds shows `text`; panics with what it showed after `timeout`.
    pub async fn wait_text(&self, css: &str, text: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut seen = String::new();
        while Instant::now() <= deadline {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                seen = element.text().await.unwrap_or_default();
                if seen.contains(text) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{css:?} did not show {text:?} within {timeout:?} on {}; it showed:\n{seen}\nThe page:\n{}",
            self.url().await,
            self.body().await
        );
    }

    /// Sets the viewport (the page's inner size) to `width`×`height` CSS pixels.
    pub async fn viewport(&self, width: u32, height: u32) {
        let mut size = (width, height);
        let inner = || async {
            let inner = self
                .client
                .execute("return [window.innerWidth, window.innerHeight];", vec![])
                .await
                .unwrap_or_else(|e| panic!("read the viewport: {e}"));
            (inner[0].as_i64().unwrap_or(0), inner[1].as_i64().unwrap_or(0))
        };
        let wanted = (i64::from(width), i64::from(height));
        // The window's size includes whatever the browser draws around the page: correct by what it reports. A
        // loaded machine may apply a resize late: the viewport is read again after a pause before correcting.
        for _ in 0..5 {
            self.client
                .set_window_size(size.0, size.1)
                .await
                .unwrap_or_else(|e| panic!("set the window to {size:?}: {e}"));
            let mut seen = inner().await;
            for _ in 0..5 {
                if seen == wanted {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                let again = inner().await;
                if again == seen {
                    break;
                }
                seen = again;
            }
            size = (
                (i64::from(size.0) + wanted.0 - seen.0).max(1) as u32,
                (i64::from(size.1) + wanted.1 - seen.1).max(1) as u32,
            );
        }
        panic!("the viewport is {:?}, not {width}×{height}", inner().await);
    }

    /// A phone-sized viewport (390×844, an iPhone 12 to 15).
    pub async fn phone(&self) {
        self.viewport(PHONE.0, PHONE.1).await;
    }

    /// Back to the desktop size.
    pub async fn desktop(&self) {
        self.viewport(DESKTOP.0, DESKTOP.1).await;
    }

    /// Whether the page is wider than its viewport (something sticks out sideways).
    pub async fn scrolls_sideways(&self) -> bool {
        let wide = self
            .client
            .execute(
                "return document.documentElement.scrollWidth > window.innerWidth;",
                vec![],
            )
            .await
            .unwrap_or_else(|e| panic!("measure the page: {e}"));
        wide.as_bool().unwrap_or(true)
    }

    /// Runs axe-core on the page; panics listing every violation of impact serious or critical (rule, help,
    /// the elements' selectors). Lesser ones are printed.
    pub async fn axe(&self) {
        let url = self.url().await;
        let loaded = self
            .client
            .execute(
                &format!("{}\n;return typeof window.axe === 'object';", self.axe_js),
                vec![],
            )
            .await
            .unwrap_or_else(|e| panic!("inject axe-core into {url}: {e}"));
        assert_eq!(loaded, Value::Bool(true), "axe-core did not load into {url}");
        let script = "const done = arguments[arguments.length - 1];\
            window.axe.run(document, { resultTypes: ['violations'] })\
              .then(r => done({ ok: r.violations }))\
              .catch(e => done({ error: String(e) }));";
        let answer = self
            .client
            .execute_async(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("run axe-core on {url}: {e}"));
        if let Some(error) = answer.get("error") {
            panic!("axe-core failed on {url}: {error}");
        }
        let violations = answer.get("ok").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut serious = Vec::new();
        for v in &violations {
            let impact = v["impact"].as_str().unwrap_or("unknown");
            let targets: Vec<String> = v["nodes"]
                .as_array()
                .map(|nodes| nodes.iter().map(|n| n["target"].to_string()).collect())
                .unwrap_or_default();
            let line = format!(
                "{impact}: {} — {} ({})\n    {}",
                v["id"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or(""),
                v["helpUrl"].as_str().unwrap_or(""),
                targets.join("\n    ")
            );
            if matches!(impact, "serious" | "critical") {
                serious.push(line);
            } else {
                eprintln!("axe on {url}: {line}");
            }
        }
        assert!(
            serious.is_empty(),
            "axe-core found {} serious or critical violation(s) on {url}:\n{}",
            serious.len(),
            serious.join("\n")
        );
    }

    /// A screenshot of the viewport; written to `docs/screenshots/NAME.png` when `OUTREACH_SCREENSHOTS=1`.
    pub async fn screenshot(&self, name: &str) -> Vec<u8> {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        assert!(png.starts_with(b"\x89PNG"), "the screenshot {name} is not a PNG");
        if std::env::var("OUTREACH_SCREENSHOTS").as_deref() == Ok("1") {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
            std::fs::create_dir_all(&dir).expect("docs/screenshots");
            let path = dir.join(format!("{name}.png"));
            // Written whole, then renamed: a test run on both backends takes the same screenshot twice at once.
            let partial = dir.join(format!(
                ".{name}.{}.{:?}.png",
                std::process::id(),
                std::thread::current().id()
            ));
            std::fs::write(&partial, &png).unwrap_or_else(|e| panic!("write {}: {e}", partial.display()));
            std::fs::rename(&partial, &path).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        }
        png
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(&mut self.driver, self.profile.path());
    }
}

/// Ends chromedriver's process group, and any Chromium process still using our profile folder (Chromium may
/// have left the group): only the processes this test started.
fn kill_group(driver: &mut Child, profile: &Path) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", driver.id())])
        .stderr(Stdio::null())
        .status();
    let _ = driver.kill();
    let _ = driver.wait();
    let marker = format!("--user-data-dir={}", profile.display());
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit())) else {
                continue;
            };
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            if cmdline.split(|b| *b == 0).any(|arg| arg == marker.as_bytes()) {
                let _ = Command::new("kill").args(["-KILL", pid]).stderr(Stdio::null()).status();
            }
        }
    }
}

/// `s` as an XPath string literal.
fn xpath_literal(s: &str) -> String {
    if !s.contains('"') {
        format!("\"{s}\"")
    } else if !s.contains('\'') {
        format!("'{s}'")
    } else {
        let parts: Vec<String> = s.split('"').map(|p| format!("\"{p}\"")).collect();
        format!("concat({})", parts.join(", '\"', "))
    }
}
