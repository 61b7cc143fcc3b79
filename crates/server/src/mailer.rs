//! How a message leaves the server: over SMTP, or into a folder of `.eml` files.
//!
//! The embedded default writes each message into an outbox folder, so a demo or a school
//! without a mail server loses nothing and an IT admin can open what would have been sent.
//! A school's mail server is given as a URL (`--smtp-url`): `smtps://` for TLS from the
//! start, `smtp://…?tls=required` for STARTTLS; a user and password in the URL log in. A URL
//! that would send its password without TLS is refused at start-up, and the URL (which may
//! hold that password) is never logged or shown.
//!
//! Sending is one attempt; retrying is the queue's job ([`mail_queue`](crate::mail_queue)),
//! which needs to know whether trying again can help: [`SendError`] says so.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use classkeys_domain::secret::Sensitive;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::sync::Notify;

/// Where mail goes.
#[derive(Debug, Clone)]
pub enum MailRoute {
    /// Each message as an `.eml` file in this folder.
    Outbox(PathBuf),
    /// A mail server.
    Smtp {
        /// `smtps://user:password@host:465` or `smtp://user:password@host:587?tls=required`.
        url: Sensitive<String>,
        /// A certificate authority (PEM) to trust besides the public ones: a school's own.
        ca_file: Option<PathBuf>,
    },
}

/// How the server sends mail.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// Where messages go.
    pub route: MailRoute,
    /// The sender's address; the sender's name is the school's.
    pub from_address: String,
}

impl MailSettings {
    /// An outbox folder, with a sender address at the public URL's host.
    pub fn outbox(dir: PathBuf, public_url: &str) -> Self {
        Self {
            route: MailRoute::Outbox(dir),
            from_address: default_from_address(public_url),
        }
    }
}

/// `classkeys@HOST` for the public URL's host (`classkeys@localhost` for an IP address,
/// which is not a mail domain).
pub fn default_from_address(public_url: &str) -> String {
    let host = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest)
        .split(['/', ':', '?'])
        .next()
        .unwrap_or_default();
    let is_name = host.contains('.') && host.parse::<std::net::IpAddr>().is_err();
    format!("classkeys@{}", if is_name { host } else { "localhost" })
}

/// One message ready to leave.
pub struct Outgoing<'a> {
    /// The queue's id for it: the outbox file's name, so sending it twice writes one file.
    pub id: &'a str,
    pub from_name: &'a str,
    pub to: &'a str,
    pub title: &'a str,
    pub body: &'a str,
}

/// Why a message did not leave.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Trying again will not help: the mail server refused the recipient or the message.
    #[error("{0}")]
    Permanent(String),
    /// Trying again later may: the mail server is down, busy, or the folder is full.
    #[error("{0}")]
    Transient(String),
}

/// The handle that sends mail, and the doorbell that tells the queue new mail is waiting.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    from: Address,
    described: String,
    waiting: Notify,
}

enum Transport {
    Outbox(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// How long one SMTP conversation may take before the attempt counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

impl Mailer {
    /// Prepares the route: checks the SMTP URL and CA file, creates the outbox folder.
    pub fn new(settings: &MailSettings) -> anyhow::Result<Self> {
        let from: Address = settings.from_address.parse().with_context(|| {
            format!(
                "the sender address {:?} is not a mail address: pass another with --mail-from",
                settings.from_address
            )
        })?;
        let (transport, described) = match &settings.route {
            MailRoute::Outbox(dir) => {
                create_private_dir(dir).with_context(|| {
                    format!("creating the mail outbox folder {}", dir.display())
                })?;
                (
                    Transport::Outbox(dir.clone()),
                    format!("mail is written to {}", dir.display()),
                )
            }
            MailRoute::Smtp { url, ca_file } => {
                let (transport, host) = smtp_transport(url.expose(), ca_file.as_deref())?;
                (
                    Transport::Smtp(transport),
                    format!("mail is sent through {host}"),
                )
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                transport,
                from,
                described,
                waiting: Notify::new(),
            }),
        })
    }

    /// Where mail goes, for the start-up message (never the SMTP password).
    pub fn describe(&self) -> &str {
        &self.inner.described
    }

    /// Rings the doorbell: a message was queued, or the clock moved.
    pub fn wake(&self) {
        self.inner.waiting.notify_one();
    }

    /// Waits for the doorbell.
    pub(crate) async fn woken(&self) {
        self.inner.waiting.notified().await;
    }

    /// Sends one message, once.
    pub async fn send(&self, outgoing: Outgoing<'_>) -> Result<(), SendError> {
        let to: Address = outgoing.to.parse().map_err(|_| {
            SendError::Permanent(format!(
                "{:?} is not an address mail can be sent to",
                outgoing.to
            ))
        })?;
        let message = Message::builder()
            .from(Mailbox::new(
                Some(outgoing.from_name.to_owned()),
                self.inner.from.clone(),
            ))
            .to(Mailbox::new(None, to))
            .subject(outgoing.title)
            .header(ContentType::TEXT_PLAIN)
            .body(outgoing.body.to_owned())
            .map_err(|e| SendError::Permanent(format!("the message cannot be built: {e}")))?;
        match &self.inner.transport {
            Transport::Outbox(dir) => {
                let path = dir.join(format!("{}.eml", outgoing.id));
                let bytes = message.formatted();
                tokio::task::spawn_blocking(move || write_private_atomically(&path, &bytes))
                    .await
                    .map_err(|e| SendError::Transient(e.to_string()))?
                    .map_err(|e| {
                        SendError::Transient(format!("writing to the mail outbox failed: {e}"))
                    })
            }
            Transport::Smtp(smtp) => smtp.send(message).await.map(drop).map_err(|e| {
                if e.is_permanent() && !is_login_refused(&e) {
                    SendError::Permanent(format!("the mail server refused the message: {e}"))
                } else {
                    SendError::Transient(format!("the mail server could not be reached: {e}"))
                }
            }),
        }
    }
}

/// Whether the mail server refused the login rather than the message: a setting to fix,
/// after which waiting messages should still go, so not a reason to give them up.
fn is_login_refused(e: &lettre::transport::smtp::Error) -> bool {
    // 530: authentication required; 534, 535, 538: the login or its mechanism refused.
    e.status()
        .is_some_and(|code| matches!(code.to_string().as_str(), "530" | "534" | "535" | "538"))
}

/// The SMTP transport for `url`, and its host and port for messages.
fn smtp_transport(
    url: &str,
    ca_file: Option<&Path>,
) -> anyhow::Result<(AsyncSmtpTransport<Tokio1Executor>, String)> {
    let parsed = url::Url::parse(url)
        .map_err(|e| anyhow::anyhow!("the SMTP URL cannot be read ({e}): see --smtp-url"))?;
    let host = parsed
        .host_str()
        .context("the SMTP URL names no mail server: see --smtp-url")?
        .to_owned();
    let tls = parsed
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let encrypted = parsed.scheme() == "smtps" || tls.as_deref() == Some("required");
    if parsed.password().is_some() && !encrypted {
        anyhow::bail!(
            "the SMTP URL has a password but no TLS, so the password would cross the network \
             in the clear: use smtps://… (TLS) or add ?tls=required (STARTTLS)"
        );
    }
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| anyhow::anyhow!("the SMTP URL cannot be used ({e}): see --smtp-url"))?
        .timeout(Some(SMTP_TIMEOUT));
    if let Some(ca_file) = ca_file {
        let pem = std::fs::read(ca_file)
            .with_context(|| format!("reading the SMTP CA file {}", ca_file.display()))?;
        let certificate = Certificate::from_pem(&pem)
            .map_err(|e| anyhow::anyhow!("{} holds no PEM certificate: {e}", ca_file.display()))?;
        let parameters = TlsParameters::builder(host.clone())
            .add_root_certificate(certificate)
            .build_rustls()
            .map_err(|e| anyhow::anyhow!("the SMTP TLS settings cannot be used: {e}"))?;
        builder = builder.tls(match (parsed.scheme(), tls.as_deref()) {
            ("smtps", _) => Tls::Wrapper(parameters),
            (_, Some("required")) => Tls::Required(parameters),
            (_, Some("opportunistic")) => Tls::Opportunistic(parameters),
            _ => anyhow::bail!(
                "--smtp-ca-file is for a TLS connection: use smtps://… or add ?tls=required"
            ),
        });
    }
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    Ok((
        builder.build(),
        format!("{}://{host}{port}", parsed.scheme()),
    ))
}

/// Creates `dir` (and its parents) readable by its owner only: messages hold sign-in links.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` so that a reader sees the whole file or none: into a hidden
/// file beside it first, then renamed into place.
fn write_private_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let partial = path.with_file_name(format!(".{name}.partial"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&partial)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&partial, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_is_at_the_public_host_or_localhost() {
        assert_eq!(
            default_from_address("https://classkeys.oakwood.example/"),
            "classkeys@classkeys.oakwood.example"
        );
        assert_eq!(
            default_from_address("http://127.0.0.1:8080"),
            "classkeys@localhost"
        );
        assert_eq!(
            default_from_address("http://localhost:8080"),
            "classkeys@localhost"
        );
    }

    // Building an SMTP transport starts its connection pool, on the runtime.
    #[tokio::test]
    async fn a_password_without_tls_is_refused() {
        let err = smtp_transport("smtp://me:secret@mail.example:25", None)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("in the clear"), "{err}");
        assert!(
            !err.contains("secret"),
            "the password is never shown: {err}"
        );
        assert!(smtp_transport("smtp://me:secret@mail.example:587?tls=required", None).is_ok());
        assert!(smtp_transport("smtps://me:secret@mail.example", None).is_ok());
        assert!(smtp_transport("smtp://relay.example:25", None).is_ok());
    }

    #[tokio::test]
    async fn a_described_route_never_shows_the_password() {
        let mailer = Mailer::new(&MailSettings {
            route: MailRoute::Smtp {
                url: Sensitive::new("smtps://me:secret@mail.example:465".into()),
                ca_file: None,
            },
            from_address: "classkeys@oakwood.example".into(),
        })
        .unwrap();
        assert_eq!(
            mailer.describe(),
            "mail is sent through smtps://mail.example:465"
        );
    }
}
