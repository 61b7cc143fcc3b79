//! Mail as a recipient sees it: a real SMTP server on loopback (Debian's `python3-aiosmtpd`,
//! with STARTTLS under a throwaway CA and a login when asked), and the messages it or a
//! server's outbox folder received, read back with their bodies decoded.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The SMTP server's script; written to a file so the tests need no path into the tree.
const SCRIPT: &str = include_str!("smtp_server.py");
/// Debian's Python, which has `python3-aiosmtpd`; another `python3` on the PATH may not.
const PYTHON: &str = "/usr/bin/python3";

/// One message as received.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The `From` header as written (`"School name" <address>`).
    pub from: String,
    /// The recipients' addresses.
    pub to: Vec<String>,
    pub subject: String,
    /// The text body, decoded, with its lines ending in `\n` (mail's CRLF read as a reader
    /// sees it).
    pub body: String,
}

impl Mail {
    /// Reads a message in Internet Message Format.
    ///
    /// # Panics
    /// When it is not one.
    pub fn parse(raw: &[u8]) -> Mail {
        let message = mail_parser::MessageParser::default()
            .parse(raw)
            .expect("a message in Internet Message Format");
        let from = message
            .from()
            .and_then(|a| a.first())
            .map(|a| match &a.name {
                Some(name) => format!("\"{name}\" <{}>", a.address.as_deref().unwrap_or("")),
                None => a.address.as_deref().unwrap_or("").to_owned(),
            })
            .unwrap_or_default();
        let to = message
            .to()
            .map(|list| {
                list.iter()
                    .filter_map(|a| a.address.as_deref().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Mail {
            from,
            to,
            subject: message.subject().unwrap_or_default().to_owned(),
            body: message
                .body_text(0)
                .map(|b| b.replace("\r\n", "\n"))
                .unwrap_or_default(),
        }
    }

    /// The links in the body that start with `prefix`.
    pub fn links(&self, prefix: &str) -> Vec<String> {
        self.body
            .split_whitespace()
            .filter(|word| word.starts_with(prefix))
            .map(|word| word.trim_end_matches(['.', ',', ')']).to_owned())
            .collect()
    }
}

/// Every `.eml` message in `dir` (a server's outbox), oldest first.
///
/// # Panics
/// When the folder cannot be read.
pub fn read_outbox(dir: &Path) -> Vec<Mail> {
    read_messages(dir, |name| name.ends_with(".eml") && !name.starts_with('.'))
}

fn read_messages(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<Mail> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.expect("a folder entry").path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(&keep))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| Mail::parse(&std::fs::read(p).expect("reading a message")))
        .collect()
}

/// How the SMTP server is set up.
#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    /// Offer STARTTLS, under a throwaway CA, and require it.
    pub starttls: bool,
    /// Require this user and password.
    pub login: Option<(String, String)>,
}

/// A real SMTP server on a loopback port, storing what it receives in a Maildir.
pub struct SmtpServer {
    port: u16,
    options: SmtpOptions,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl SmtpServer {
    /// Starts one.
    ///
    /// # Panics
    /// When it cannot start (is `python3-aiosmtpd` installed?).
    pub async fn start(options: SmtpOptions) -> SmtpServer {
        let dir = tempfile::tempdir().expect("temporary folder");
        std::fs::write(dir.path().join("smtp_server.py"), SCRIPT).expect("writing the script");
        if options.starttls {
            write_certificates(dir.path());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut server = SmtpServer {
            port,
            options,
            dir,
            child: None,
        };
        server.resume().await;
        server
    }

    /// `smtp://[user:password@]127.0.0.1:PORT[?tls=required]`, for `--smtp-url`.
    pub fn url(&self) -> String {
        let login = self
            .options
            .login
            .as_ref()
            .map(|(user, password)| format!("{user}:{password}@"))
            .unwrap_or_default();
        let tls = if self.options.starttls {
            "?tls=required"
        } else {
            ""
        };
        format!("smtp://{login}127.0.0.1:{}{tls}", self.port)
    }

    /// Server settings that send mail through this server, from `classkeys@demo.example`.
    pub fn settings(&self) -> classkeys_server::Settings {
        use classkeys_server::mailer::{MailRoute, MailSettings};
        classkeys_server::Settings {
            mail: MailSettings {
                route: MailRoute::Smtp {
                    url: self.url().into(),
                    ca_file: self.ca_file(),
                },
                from_address: "classkeys@demo.example".into(),
            },
            ..classkeys_server::Settings::default()
        }
    }

    /// The throwaway CA's certificate, for `--smtp-ca-file` (with STARTTLS only).
    pub fn ca_file(&self) -> Option<PathBuf> {
        self.options
            .starttls
            .then(|| self.dir.path().join("ca.pem"))
    }

    /// Takes the server down: connections to its port are refused.
    pub async fn pause(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.ok();
        }
    }

    /// Starts it again on the same port, with the messages it had.
    ///
    /// # Panics
    /// When it does not start within the deadline.
    pub async fn resume(&mut self) {
        if self.child.is_some() {
            return;
        }
        let path = self.dir.path();
        let mut command = Command::new(PYTHON);
        command
            .arg(path.join("smtp_server.py"))
            .args(["--port", &self.port.to_string()])
            .arg("--maildir")
            .arg(path.join("maildir"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if self.options.starttls {
            command
                .arg("--cert")
                .arg(path.join("server.pem"))
                .arg("--key")
                .arg(path.join("server.key"));
        }
        if let Some((user, password)) = &self.options.login {
            command.args(["--user", user, "--password", password]);
        }
        let mut child = command
            .spawn()
            .expect("starting the SMTP server (/usr/bin/python3 with python3-aiosmtpd)");
        let stdout = child.stdout.take().expect("its output");
        let mut first = String::new();
        tokio::time::timeout(
            crate::DEADLINE,
            BufReader::new(stdout).read_line(&mut first),
        )
        .await
        .expect("the SMTP server started in time")
        .expect("reading the SMTP server's output");
        assert_eq!(first.trim(), "ready", "the SMTP server did not start");
        self.child = Some(child);
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Mail> {
        let maildir = self.dir.path().join("maildir");
        let mut all = read_messages(&maildir.join("new"), |_| true);
        all.extend(read_messages(&maildir.join("cur"), |_| true));
        all
    }

    /// Waits until at least `count` messages have arrived, and returns them all.
    ///
    /// # Panics
    /// When they have not by the deadline.
    pub async fn wait_for(&self, count: usize) -> Vec<Mail> {
        crate::eventually(&format!("{count} messages arrive by SMTP"), async || {
            let messages = self.messages();
            if messages.len() >= count {
                Ok(messages)
            } else {
                Err(messages.len())
            }
        })
        .await
    }
}

/// A throwaway CA (`ca.pem`) and a certificate for 127.0.0.1 and localhost signed by it
/// (`server.pem`, `server.key`): a certificate that is its own CA is not accepted for a
/// server, so the tests build the chain a real mail server has.
fn write_certificates(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).expect("the CA certificate");
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let server_key = KeyPair::generate().expect("a server key");
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("server parameters")
        .signed_by(&server_key, &issuer)
        .expect("the server certificate");
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).expect("writing ca.pem");
    std::fs::write(dir.join("server.pem"), server.pem()).expect("writing server.pem");
    std::fs::write(dir.join("server.key"), server_key.serialize_pem()).expect("writing server.key");
}
