//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The evaluation time every test pins, so that key ages never drift.
pub const NOW: &str = "2026-11-20T00:00:00Z";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures(sub: &str) -> PathBuf {
    repo().join("tests/fixtures").join(sub)
}

/// Runs the `evidra` binary in `dir` with a pinned evaluation time.
pub fn evidra(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evidra"))
        .args(args)
        .current_dir(dir)
        .env("EVIDRA_NOW", NOW)
        .env_remove("EVIDRA_DB")
        .output()
        .expect("run evidra")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read json")).expect("parse json")
}

/// The Python of the test venv (set by scripts/test.sh), where moto is installed.
pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("EVIDRA_TEST_PYTHON") {
        return p.into();
    }
    let venv = repo().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "the AWS tests need moto: run scripts/test.sh (it sets up .venv), or set EVIDRA_TEST_PYTHON"
    );
    venv
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(port: u16, child: &mut std::process::Child, what: &str) {
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{what} did not listen on 127.0.0.1:{port} within 30 s");
}

/// A child process killed when dropped, so every test server stops with its test.
pub struct Server {
    child: std::process::Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto in server mode on 127.0.0.1, on a free port, logging requests to a file.
pub fn moto(dir: &Path) -> Server {
    let port = free_port();
    let log = dir.join(format!("moto-{port}.log"));
    let mut child = Command::new(python())
        .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.join(format!("moto-{port}.err"))).unwrap())
        .spawn()
        .expect("start moto");
    wait_for(port, &mut child, "moto");
    Server {
        child,
        port,
        log: dir.join(format!("moto-{port}.err")),
    }
}

/// The stand-in (tests/peers/standin.py) in front of `moto`, answering `rules`.
pub fn standin(dir: &Path, moto: &Server, rules: &serde_json::Value) -> Server {
    let port = free_port();
    let rules_path = dir.join(format!("rules-{port}.json"));
    std::fs::write(&rules_path, rules.to_string()).unwrap();
    let script = repo().join("tests/peers/standin.py");
    let mut child = Command::new(python())
        .args([
            script.to_str().unwrap(),
            &port.to_string(),
            &moto.url(),
            rules_path.to_str().unwrap(),
        ])
        .spawn()
        .expect("start the stand-in");
    wait_for(port, &mut child, "the stand-in");
    Server {
        child,
        port,
        log: rules_path,
    }
}

/// Seeds moto through boto3 (tests/peers/seed_aws.py); returns what the seeder printed.
pub fn seed(moto: &Server, args: &[&str]) -> String {
    let script = repo().join("tests/peers/seed_aws.py");
    let out = Command::new(python())
        .arg(script)
        .arg(moto.url())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "seeding failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs evidra with AWS pointed at `endpoint` (test credentials, us-east-1).
pub fn evidra_aws(dir: &Path, endpoint: &str, extra_env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_evidra"));
    cmd.args(args)
        .current_dir(dir)
        .env("EVIDRA_NOW", NOW)
        .env_remove("EVIDRA_DB")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().expect("run evidra")
}

/// Requests moto served, from its log.
pub fn moto_requests(moto: &Server) -> usize {
    std::fs::read_to_string(&moto.log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("HTTP/1.1\""))
        .count()
}
