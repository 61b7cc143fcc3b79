//! `classkeys login` and `classkeys logout`: signing in and out, and keeping the session
//! in the [`SessionStore`].

use anyhow::{Result, anyhow};
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::ErrorCode;
use classkeys_protocol::auth::SignInRequest;
use serde_json::json;

use crate::args::LoginArgs;
use crate::commands::Network;
use crate::error::Explained;
use crate::output::{Output, warn};
use crate::session_store::{SessionStore, StoredSession, Token};

/// The environment variable that gives the password to scripts, instead of the prompt.
pub const PASSWORD_ENV: &str = "CLASSKEYS_PASSWORD";

/// Signs in and stores the session.
pub async fn login(store: &SessionStore, net: Network, args: LoginArgs, out: Output) -> Result<()> {
    let client = net.client(&args.server)?;
    let request = SignInRequest {
        school: args
            .school
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        username: args.username.trim().to_owned(),
        password: read_own_password(&args.username, client.base_url())?
            .expose()
            .clone(),
        // The command line signs in rarely and keeps no device token: its sign-ins are
        // throttled like any new device's.
        device_token: None,
    };
    let (signed_in, session) = client.sign_in(&request).await.explained()?;
    let me = session.staff;
    let stored = StoredSession {
        // The client's normalised address, so `https://x/` and `https://x` are one session.
        server: client.base_url().to_owned(),
        username: me.username.clone(),
        token: Token::new(session.token),
    };
    if let Err(e) = store.save(&stored) {
        // A session nobody can find again would stay valid until it expires: end it now.
        let _ = signed_in.sign_out().await;
        return Err(e);
    }
    out.show(&me, || {
        format!(
            "Signed in to {} as {} ({})",
            me.school_name,
            me.display_name,
            me.role.as_str().replace('_', " ")
        )
    })
}

/// The signed-in admin's own password: from CLASSKEYS_PASSWORD, or asked for without echo.
pub fn read_own_password(username: &str, server: &str) -> Result<Sensitive<String>> {
    if let Some(password) = std::env::var_os(PASSWORD_ENV) {
        return password
            .into_string()
            .map(Sensitive::new)
            .map_err(|_| anyhow!("{PASSWORD_ENV} is not valid UTF-8"));
    }
    let password = rpassword::prompt_password(format!(
        "Password for {} at {server}: ",
        username.trim()
    ))
    .map_err(|e| {
        anyhow!(
            "could not read the password from the terminal ({e}): set {PASSWORD_ENV} to give \
             it from a script"
        )
    })?;
    if password.is_empty() {
        return Err(anyhow!("no password given"));
    }
    Ok(Sensitive::new(password))
}

/// Ends the session on the server, then forgets it here — even when the server cannot be
/// reached, because the admin asked for this computer to stop holding the token.
pub async fn logout(store: &SessionStore, net: Network, out: Output) -> Result<()> {
    let session = store.load()?;
    if let Some(s) = &session {
        let ended = match net.client(&s.server) {
            Ok(client) => match client.with_token(s.token.expose()).sign_out().await {
                // Already expired or revoked on the server: nothing left to end there.
                Err(e) if e.code() == Some(ErrorCode::Unauthenticated) => Ok(()),
                other => other.explained(),
            },
            Err(e) => Err(e),
        };
        if let Err(e) = ended {
            warn(&format!(
                "could not end the session on the server ({e}); it is removed from this \
                 computer and ends on the server when it expires"
            ));
        }
    }
    store.clear()?;
    let (server, username) = session
        .as_ref()
        .map_or((None, None), |s| (Some(&s.server), Some(&s.username)));
    out.show(
        &json!({ "signed_out": session.is_some(), "server": server, "username": username }),
        || match (server, username) {
            (Some(server), Some(username)) => format!("Signed out of {server} as {username}"),
            _ => "Not signed in; nothing to sign out of".to_owned(),
        },
    )
}
