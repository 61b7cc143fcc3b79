//! `classkeys-server`: run the school server, or administer schools and staff accounts.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use classkeys_domain::identity::Role;
use classkeys_domain::secret::Sensitive;
use classkeys_server::keys::KeySource;
use classkeys_server::mailer::{MailRoute, MailSettings, default_from_address};
use classkeys_server::{Settings, admin, demo, serve};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "classkeys-server",
    version,
    about = "The ClassKeys school server"
)]
struct Cli {
    #[command(flatten)]
    storage: Storage,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Storage {
    /// Database: sqlite://PATH (created if missing) or postgres://USER:PASSWORD@HOST/DB.
    /// Default: a SQLite file in the platform's data folder.
    #[arg(long, env = "CLASSKEYS_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// File holding the master key (base64 of 32 bytes). CLASSKEYS_MASTER_KEY (the key itself)
    /// takes precedence. Default: master.key in the data folder, created on first start.
    #[arg(long, env = "CLASSKEYS_MASTER_KEY_FILE", global = true)]
    master_key_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "CLASSKEYS_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// The address people use to reach this server (for links in emails), e.g.
        /// https://keys.school.example. Default: http://<listen address>.
        #[arg(long, env = "CLASSKEYS_PUBLIC_URL")]
        public_url: Option<String>,
        /// Create the demo school "Demo Primary" (slug demo) if it does not exist.
        #[arg(long)]
        demo: bool,
        /// The address of a reverse proxy in front of the server; repeat for several. Only
        /// requests from these have their client address taken from X-Forwarded-For (for
        /// throttling); from anyone else that header is ignored.
        #[arg(
            long = "trusted-proxy",
            value_name = "IP",
            env = "CLASSKEYS_TRUSTED_PROXIES",
            value_delimiter = ','
        )]
        trusted_proxies: Vec<std::net::IpAddr>,
        #[command(flatten)]
        mail: MailArgs,
    },
    /// Manage schools.
    School {
        #[command(subcommand)]
        command: SchoolCommand,
    },
    /// Manage staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
}

/// Where the server's mail goes: a mail server, or (the default) a folder of `.eml` files.
#[derive(Args)]
struct MailArgs {
    /// Send mail through this SMTP server: smtps://USER:PASSWORD@HOST:465 (TLS) or
    /// smtp://USER:PASSWORD@HOST:587?tls=required (STARTTLS). Without it, mail is written
    /// to the outbox folder.
    #[arg(
        long,
        env = "CLASSKEYS_SMTP_URL",
        hide_env_values = true,
        conflicts_with = "mail_outbox"
    )]
    smtp_url: Option<String>,
    /// A certificate authority (PEM file) to trust for the SMTP server's certificate, for a
    /// school's own CA.
    #[arg(long, env = "CLASSKEYS_SMTP_CA_FILE", requires = "smtp_url")]
    smtp_ca_file: Option<PathBuf>,
    /// Write each message as an .eml file into this folder instead of sending it.
    /// Default: the folder "outbox" beside the SQLite database (or in the data folder).
    #[arg(long, env = "CLASSKEYS_MAIL_OUTBOX")]
    mail_outbox: Option<PathBuf>,
    /// The sender's address (the sender's name is the school's).
    /// Default: classkeys@<the public URL's host>.
    #[arg(long, env = "CLASSKEYS_MAIL_FROM")]
    mail_from: Option<String>,
}

impl MailArgs {
    fn settings(self, database_url: &str, public_url: &str) -> anyhow::Result<MailSettings> {
        let route = match self.smtp_url {
            Some(url) => MailRoute::Smtp {
                url: Sensitive::new(url),
                ca_file: self.smtp_ca_file,
            },
            None => MailRoute::Outbox(match self.mail_outbox {
                Some(dir) => dir,
                None => default_outbox(database_url)?,
            }),
        };
        Ok(MailSettings {
            route,
            from_address: self
                .mail_from
                .unwrap_or_else(|| default_from_address(public_url)),
        })
    }
}

/// The outbox beside a SQLite database, or in the data folder for PostgreSQL.
fn default_outbox(database_url: &str) -> anyhow::Result<PathBuf> {
    let beside_database = database_url
        .strip_prefix("sqlite://")
        .map(|path| path.split('?').next().unwrap_or(path))
        .and_then(|path| std::path::Path::new(path).parent().map(|p| p.to_path_buf()))
        .filter(|dir| !dir.as_os_str().is_empty());
    Ok(match beside_database {
        Some(dir) => dir.join("outbox"),
        None => serve::default_data_dir()?.join("outbox"),
    })
}

#[derive(Subcommand)]
enum SchoolCommand {
    /// Create a school.
    Create {
        /// The school's name, e.g. "St Mary's Primary".
        #[arg(long)]
        name: String,
        /// Short name used in addresses, e.g. st-marys.
        #[arg(long)]
        slug: String,
    },
    /// Change how a school's pages look and how long its sign-in links work.
    Set {
        /// The school's slug.
        #[arg(long)]
        slug: String,
        /// The colour at the top of the school's pages, e.g. "#2e6b3f".
        #[arg(long, value_name = "#RRGGBB")]
        crest_colour: Option<String>,
        /// How many hours a sign-in link works (1 to 72; 24 unless set).
        #[arg(long, value_name = "HOURS")]
        sign_in_link_hours: Option<u32>,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create a staff account. The password is read from standard input.
    Create {
        /// The school's slug.
        #[arg(long)]
        school: String,
        /// Sign-in name.
        #[arg(long)]
        username: String,
        /// teacher or lead_teacher.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Name shown to colleagues (default: the username).
        #[arg(long)]
        display_name: Option<String>,
        /// Their email address, where the login helper sends a link to choose a new
        /// password when they forget theirs.
        #[arg(long)]
        email: Option<String>,
    },
    /// Deactivate a staff account: it can no longer sign in, and open sessions end.
    Deactivate {
        /// The school's slug.
        #[arg(long)]
        school: String,
        /// Sign-in name.
        #[arg(long)]
        username: String,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).map_err(|e| e.reason)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let database_url = match cli.storage.database_url {
        Some(url) => url,
        None => serve::default_database_url()?,
    };
    let keys = match (
        std::env::var("CLASSKEYS_MASTER_KEY")
            .ok()
            .filter(|k| !k.is_empty()),
        cli.storage.master_key_file,
    ) {
        (Some(inline), _) => KeySource::Inline(Sensitive::new(inline)),
        (None, Some(path)) => KeySource::File(path),
        (None, None) => serve::default_key_source()?,
    };
    match cli.command {
        Command::Serve {
            listen,
            public_url,
            demo,
            trusted_proxies,
            mail,
        } => {
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("listening on {listen}"))?;
            // Without --public-url, the address actually bound (port 0 picks a free one).
            let bound = listener.local_addr()?;
            let public_url = public_url.unwrap_or_else(|| format!("http://{bound}"));
            let settings = Settings {
                mail: mail.settings(&database_url, &public_url)?,
                public_url,
                trusted_proxies,
                ..Settings::default()
            };
            let state = serve::build_state(&database_url, &keys, settings).await?;
            tracing::info!(
                database = %classkeys_server::db::redact_url(&database_url),
                backend = %state.db.backend(),
                "database ready"
            );
            if demo {
                seed_demo(&state).await?;
            }
            let running = serve::start_on(state, listener).await?;
            // Mail first: scripts/run waits for "listening on", then shows the mail line.
            println!("Mail: {}", running.state.mail.describe());
            println!("ClassKeys server listening on http://{}", running.addr);
            shutdown_signal().await;
            tracing::info!("shutting down");
            running.stop().await?;
        }
        Command::School {
            command: SchoolCommand::Create { name, slug },
        } => {
            let state = serve::build_state(&database_url, &keys, Settings::default()).await?;
            let mut conn = state.db.pool().acquire().await?;
            let id = admin::create_school(&mut conn, &state.keys, &name, &slug).await?;
            println!("Created school {name} (slug {slug}, id {id})");
        }
        Command::School {
            command:
                SchoolCommand::Set {
                    slug,
                    crest_colour,
                    sign_in_link_hours,
                },
        } => {
            let state = serve::build_state(&database_url, &keys, Settings::default()).await?;
            let mut conn = state.db.pool().acquire().await?;
            let look = admin::SchoolLook {
                crest_colour: crest_colour.as_deref(),
                sign_in_link_hours,
            };
            admin::set_school_look(&mut conn, &slug, look).await?;
            println!("Updated the settings of {slug}");
        }
        Command::Staff {
            command:
                StaffCommand::Create {
                    school,
                    username,
                    role,
                    display_name,
                    email,
                },
        } => {
            let password = read_password(&username)?;
            let state = serve::build_state(&database_url, &keys, Settings::default()).await?;
            let mut conn = state.db.pool().acquire().await?;
            let school_id = admin::school_by_slug(&mut conn, &school).await?;
            drop(conn);
            let (mut tx, seq) = state.db.begin_change(&school_id.to_string()).await?;
            let new = admin::NewStaff {
                username: &username,
                display_name: display_name.as_deref(),
                role,
                email: email.as_deref(),
                password,
            };
            admin::create_staff(&mut tx, &state.hasher, school_id, seq, new).await?;
            tx.commit().await?;
            println!("Created {role} {username} in {school}");
        }
        Command::Staff {
            command: StaffCommand::Deactivate { school, username },
        } => {
            let state = serve::build_state(&database_url, &keys, Settings::default()).await?;
            admin::deactivate_staff(&state.db, &school, &username).await?;
            println!("Deactivated {username} in {school}; their sessions have ended");
        }
    }
    Ok(())
}

/// Reads a new password: prompted without echo on a terminal, else the first line of stdin.
fn read_password(username: &str) -> anyhow::Result<Sensitive<String>> {
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("Password for {username}: "))?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    let password = Sensitive::new(password);
    admin::check_staff_password(&password)?;
    Ok(password)
}

async fn seed_demo(state: &classkeys_server::AppState) -> anyhow::Result<()> {
    let password = std::env::var("CLASSKEYS_DEMO_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .map(Sensitive::new);
    let report = demo::seed(state, password).await?;
    if report.created {
        println!(
            "Created the demo school {} (slug {}) with {} learners.",
            demo::NAME,
            demo::SLUG,
            report.learners
        );
    } else {
        println!(
            "The demo school {} (slug {}) is already there ({} learners).",
            demo::NAME,
            demo::SLUG,
            report.learners
        );
    }
    println!("Demo sign-ins:");
    for sign_in in &report.sign_ins {
        let password = match &sign_in.password {
            Some(p) => p.expose().clone(),
            None => "(unchanged: set CLASSKEYS_DEMO_PASSWORD to choose one)".into(),
        };
        println!(
            "  {:<10} {:<13} password: {password}",
            sign_in.username,
            sign_in.role.as_str()
        );
    }
    if report.created && std::env::var_os("CLASSKEYS_DEMO_PASSWORD").is_none() {
        println!("These passwords are shown only now.");
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
