//! The ClassKeys API client: one typed method per endpoint, over reqwest.
//!
//! The `classkeys` command line, the desktop app and the server's own tests all talk to the
//! server through this crate, so each endpoint's path, method and body types are written
//! down exactly once (with the types themselves in `classkeys-protocol`).

mod error;
pub mod files;

use std::time::Duration;

use classkeys_domain::ids::{ClassId, ImportId, LearnerId, StaffId};
use classkeys_protocol::auth::{Me, Session, SignInRequest};
use classkeys_protocol::credentials::{
    AccessCodes, AuditPage, AuditQuery, ClassPasswordReset, CodesPurpose, CodesRequest,
    DEVICE_HEADER, LearnerMe, LearnerPasswordChange, LearnerPasswordReset, LearnerSession,
    LearnerSignInRequest, SchoolExportRequest,
};
use classkeys_protocol::diagnosis::{Diagnosis, ResetLinkSent, Unlocked};
use classkeys_protocol::imports::{ImportApplied, ImportApply, ImportPreview, ImportQuery};
use classkeys_protocol::messages::{MessageReport, MessageStatus, NewMessage};
use classkeys_protocol::paths;
use classkeys_protocol::roster::{
    ActiveChange, ClassPatch, ClassRecord, DuplicateList, EmailMove, EmailMoved, Enrolment,
    InstructionsQuery, LearnerMove, LearnerPage, LearnerPatch, LearnerQuery, LearnerRecord,
    NewClass, NewLearner, StaffRecord,
};
use classkeys_protocol::sync::{PullQuery, PullResponse, PushRequest, PushResponse};
use reqwest::{Method, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use error::{Error, Result};

/// How a client names its device for the audit log: the program and the computer's name
/// (`classkeys desktop on OFFICE-PC-12`).
pub fn device_name(program: &str) -> String {
    let host = std::env::var("COMPUTERNAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    match host {
        Some(host) => format!("{program} on {host}"),
        None => program.to_owned(),
    }
}

/// Whether `url` names this computer: `localhost` or a loopback address.
fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A connection to one ClassKeys server, optionally signed in.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    device: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("signed_in", &self.token.is_some())
            .finish()
    }
}

impl Client {
    /// A client for the server at `base_url` (for example `https://keys.school.example`).
    /// Plain `http://` is refused unless the server is this computer itself (loopback).
    pub fn new(base_url: &str) -> Result<Self> {
        Self::connect(base_url, false)
    }

    /// A client that also accepts plain `http://` to another computer, for a network its
    /// admin trusts (the command line's `--allow-insecure-http`).
    pub fn new_allowing_insecure_http(base_url: &str) -> Result<Self> {
        Self::connect(base_url, true)
    }

    fn connect(base_url: &str, allow_insecure_http: bool) -> Result<Self> {
        let base = base_url.trim().trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base).map_err(|e| Error::InvalidUrl {
            url: base.clone(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::InvalidUrl {
                url: base,
                reason: "the address must start with http:// or https://".into(),
            });
        }
        if parsed.scheme() == "http" && !allow_insecure_http && !is_loopback(&parsed) {
            return Err(Error::InsecureUrl { url: base });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("classkeys/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(Error::transport(&base))?;
        Ok(Self {
            http,
            base,
            token: None,
            device: None,
        })
    }

    /// The same client, presenting `token` as its session.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The server address this client talks to.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The session token in use, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The same client, naming its device in every request, for the audit log.
    pub fn with_device(mut self, name: impl Into<String>) -> Self {
        self.device = Some(name.into());
        self
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(device) = &self.device {
            req = req.header(DEVICE_HEADER, device);
        }
        match &self.token {
            Some(token) => req.bearer_auth(token),
            None => req,
        }
    }

    async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        let resp = req.send().await.map_err(Error::transport(&self.base))?;
        Error::check(resp)
            .await?
            .json()
            .await
            .map_err(|e| Error::Decode(e.to_string()))
    }

    async fn send_bytes(&self, req: RequestBuilder) -> Result<Vec<u8>> {
        let resp = req.send().await.map_err(Error::transport(&self.base))?;
        Error::check(resp)
            .await?
            .bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(Error::transport(&self.base))
    }

    async fn send_empty(&self, req: RequestBuilder) -> Result<()> {
        let resp = req.send().await.map_err(Error::transport(&self.base))?;
        Error::check(resp).await.map(drop)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.request(Method::GET, path)).await
    }

    async fn with_body<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.send(self.request(method, path).json(body)).await
    }

    /// Checks that the server is up and its database answers.
    pub async fn healthz(&self) -> Result<()> {
        self.send_empty(self.request(Method::GET, paths::HEALTHZ))
            .await
    }

    /// Signs in; the returned client carries the new session.
    pub async fn sign_in(&self, request: &SignInRequest) -> Result<(Self, Session)> {
        let session: Session = self
            .with_body(Method::POST, paths::SIGN_IN, request)
            .await?;
        Ok((self.clone().with_token(session.token.clone()), session))
    }

    /// Ends this client's session on the server.
    pub async fn sign_out(&self) -> Result<()> {
        self.send_empty(self.request(Method::POST, paths::SIGN_OUT))
            .await
    }

    /// Who is signed in.
    pub async fn me(&self) -> Result<Me> {
        self.get(paths::ME).await
    }

    /// The classes the caller may see.
    pub async fn classes(&self) -> Result<Vec<ClassRecord>> {
        self.get(paths::CLASSES).await
    }

    /// One class.
    pub async fn class(&self, id: ClassId) -> Result<ClassRecord> {
        self.get(&paths::CLASS.with([&id])).await
    }

    /// Creates a class (lead teachers).
    pub async fn class_create(&self, new: &NewClass) -> Result<ClassRecord> {
        self.with_body(Method::POST, paths::CLASSES, new).await
    }

    /// Renames, re-labels, archives or restores a class.
    pub async fn class_update(&self, id: ClassId, patch: &ClassPatch) -> Result<ClassRecord> {
        self.with_body(Method::PATCH, &paths::CLASS.with([&id]), patch)
            .await
    }

    /// Deletes an empty class (lead teachers).
    pub async fn class_delete(&self, id: ClassId) -> Result<()> {
        self.send_empty(self.request(Method::DELETE, &paths::CLASS.with([&id])))
            .await
    }

    /// Makes `staff` one of the class's teachers (lead teachers).
    pub async fn class_assign_teacher(&self, id: ClassId, staff: StaffId) -> Result<ClassRecord> {
        self.send(self.request(Method::PUT, &paths::CLASS_TEACHER.with([&id, &staff])))
            .await
    }

    /// Takes `staff` off the class (lead teachers).
    pub async fn class_unassign_teacher(&self, id: ClassId, staff: StaffId) -> Result<ClassRecord> {
        self.send(self.request(Method::DELETE, &paths::CLASS_TEACHER.with([&id, &staff])))
            .await
    }

    /// Lists or searches learners the caller may see.
    pub async fn learners(&self, query: &LearnerQuery) -> Result<LearnerPage> {
        self.send(self.request(Method::GET, paths::LEARNERS).query(query))
            .await
    }

    /// One learner.
    pub async fn learner(&self, id: LearnerId) -> Result<LearnerRecord> {
        self.get(&paths::LEARNER.with([&id])).await
    }

    /// Creates a learner.
    pub async fn learner_create(&self, new: &NewLearner) -> Result<LearnerRecord> {
        self.with_body(Method::POST, paths::LEARNERS, new).await
    }

    /// Changes a learner's names, username or email.
    pub async fn learner_update(
        &self,
        id: LearnerId,
        patch: &LearnerPatch,
    ) -> Result<LearnerRecord> {
        self.with_body(Method::PATCH, &paths::LEARNER.with([&id]), patch)
            .await
    }

    /// Enrols a learner in a class.
    pub async fn learner_enrol(&self, id: LearnerId, class_id: ClassId) -> Result<LearnerRecord> {
        self.with_body(
            Method::POST,
            &paths::LEARNER_ENROLMENTS.with([&id]),
            &Enrolment { class_id },
        )
        .await
    }

    /// Takes a learner out of a class. `None` when the caller can no longer see the learner
    /// (it was their only class of the caller's).
    pub async fn learner_unenrol(
        &self,
        id: LearnerId,
        class_id: ClassId,
    ) -> Result<Option<LearnerRecord>> {
        let request = self.request(
            Method::DELETE,
            &paths::LEARNER_ENROLMENT.with([&id, &class_id]),
        );
        let resp = request.send().await.map_err(Error::transport(&self.base))?;
        let resp = Error::check(resp).await?;
        if resp.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        resp.json()
            .await
            .map(Some)
            .map_err(|e| Error::Decode(e.to_string()))
    }

    /// Moves a learner from one class to another.
    pub async fn learner_move(
        &self,
        id: LearnerId,
        request: &LearnerMove,
    ) -> Result<LearnerRecord> {
        self.with_body(Method::POST, &paths::LEARNER_MOVE.with([&id]), request)
            .await
    }

    /// Deactivates (`active = false`) or reactivates a learner.
    pub async fn learner_set_active(
        &self,
        id: LearnerId,
        active: bool,
        base_version: Option<i64>,
    ) -> Result<LearnerRecord> {
        let route = if active {
            paths::LEARNER_REACTIVATE
        } else {
            paths::LEARNER_DEACTIVATE
        };
        self.with_body(
            Method::POST,
            &route.with([&id]),
            &ActiveChange { base_version },
        )
        .await
    }

    /// The school's staff (lead teachers).
    pub async fn staff(&self) -> Result<Vec<StaffRecord>> {
        self.get(paths::STAFF).await
    }

    /// One page of changes since a cursor.
    pub async fn sync_pull(&self, query: &PullQuery) -> Result<PullResponse> {
        self.send(self.request(Method::GET, paths::SYNC_CHANGES).query(query))
            .await
    }

    /// Pushes a batch of operations.
    pub async fn sync_push(&self, request: &PushRequest) -> Result<PushResponse> {
        self.with_body(Method::POST, paths::SYNC_PUSH, request)
            .await
    }

    /// Sends any request and returns the status and raw body, for tests of the API's edges
    /// (malformed bodies, unusual methods).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, Vec<u8>)> {
        let (status, _, body) = self
            .raw_with_headers(method, path, content_type, body)
            .await?;
        Ok((status, body))
    }

    /// Posts `body` as JSON with an `X-Forwarded-For` header, as a reverse proxy would
    /// (tests of proxied deployments).
    pub async fn raw_forwarded(
        &self,
        path: &str,
        forwarded_for: &str,
        body: serde_json::Value,
    ) -> Result<(u16, Vec<u8>)> {
        let resp = self
            .request(Method::POST, path)
            .header("x-forwarded-for", forwarded_for)
            .json(&body)
            .send()
            .await
            .map_err(Error::transport(&self.base))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Error::Decode(e.to_string()))?;
        Ok((status, bytes.to_vec()))
    }

    /// [`Client::raw`], with the response's headers.
    pub async fn raw_with_headers(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>)> {
        let mut req = self.request(method, path);
        if let Some(ct) = content_type {
            req = req.header(reqwest::header::CONTENT_TYPE, ct);
        }
        if let Some(body) = body {
            req = req.body(body);
        }
        let resp = req.send().await.map_err(Error::transport(&self.base))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Error::Decode(e.to_string()))?;
        Ok((status, headers, bytes.to_vec()))
    }

    /// Sets one learner's password; answers their access codes with the new password.
    pub async fn learner_password_reset(
        &self,
        id: LearnerId,
        request: &LearnerPasswordReset,
    ) -> Result<AccessCodes> {
        self.with_body(
            Method::POST,
            &paths::LEARNER_PASSWORD_RESET.with([&id]),
            request,
        )
        .await
    }

    /// Resets every active learner of a class, all or none.
    pub async fn class_passwords_reset(
        &self,
        id: ClassId,
        request: &ClassPasswordReset,
    ) -> Result<AccessCodes> {
        self.with_body(Method::POST, &paths::CLASS_PASSWORDS.with([&id]), request)
            .await
    }

    /// A class's access codes, with passwords unless `purpose` is `View`.
    pub async fn class_access_codes(
        &self,
        id: ClassId,
        purpose: CodesPurpose,
    ) -> Result<AccessCodes> {
        self.with_body(
            Method::POST,
            &paths::CLASS_ACCESS_CODES.with([&id]),
            &CodesRequest { purpose },
        )
        .await
    }

    /// One learner's access codes.
    pub async fn learner_access_codes(
        &self,
        id: LearnerId,
        purpose: CodesPurpose,
    ) -> Result<AccessCodes> {
        self.with_body(
            Method::POST,
            &paths::LEARNER_ACCESS_CODES.with([&id]),
            &CodesRequest { purpose },
        )
        .await
    }

    /// Replaces a learner's parent access code.
    pub async fn learner_parent_code_rotate(&self, id: LearnerId) -> Result<AccessCodes> {
        self.send(self.request(Method::POST, &paths::LEARNER_PARENT_CODE.with([&id])))
            .await
    }

    /// A class's access codes as the CSV file (UTF-8 with BOM).
    pub async fn class_access_codes_export(&self, id: ClassId) -> Result<Vec<u8>> {
        self.send_bytes(self.request(Method::POST, &paths::CLASS_ACCESS_CODES_EXPORT.with([&id])))
            .await
    }

    /// The whole school's access codes or student database as CSV (lead teachers).
    pub async fn school_export(&self, request: &SchoolExportRequest) -> Result<Vec<u8>> {
        self.send_bytes(
            self.request(Method::POST, paths::SCHOOL_EXPORT)
                .json(request),
        )
        .await
    }

    /// Signs a learner in.
    pub async fn learner_sign_in(&self, request: &LearnerSignInRequest) -> Result<LearnerSession> {
        self.with_body(Method::POST, paths::LEARNER_SIGN_IN, request)
            .await
    }

    /// The learner whose session this client holds.
    pub async fn learner_me(&self) -> Result<LearnerMe> {
        self.get(paths::LEARNER_ME).await
    }

    /// Ends the learner's session this client holds.
    pub async fn learner_sign_out(&self) -> Result<()> {
        self.send_empty(self.request(Method::POST, paths::LEARNER_SIGN_OUT))
            .await
    }

    /// The signed-in learner chooses their own password. Every session of theirs ends,
    /// this one included; the answer is a new session.
    pub async fn learner_password_change(
        &self,
        change: &LearnerPasswordChange,
    ) -> Result<LearnerSession> {
        self.with_body(Method::POST, paths::LEARNER_PASSWORD, change)
            .await
    }

    /// One page of the audit log, newest first.
    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditPage> {
        self.send(self.request(Method::GET, paths::AUDIT).query(query))
            .await
    }

    /// Sends a message to learners by mail, each with their own sign-in link in place of
    /// `[loginLink]`.
    pub async fn message_send(&self, message: &NewMessage) -> Result<MessageReport> {
        self.with_body(Method::POST, paths::MESSAGES, message).await
    }

    /// Parents' "how to sign in" sheets, one page per learner, as a PDF.
    pub async fn instructions_pdf(&self, query: &InstructionsQuery) -> Result<Vec<u8>> {
        self.send_bytes(self.request(Method::GET, paths::INSTRUCTIONS).query(query))
            .await
    }

    /// What importing the roster file `bytes` would do; nothing changes.
    pub async fn import_preview(
        &self,
        query: &ImportQuery,
        bytes: Vec<u8>,
    ) -> Result<ImportPreview> {
        self.send(
            self.request(Method::POST, paths::IMPORT_PREVIEW)
                .query(query)
                .header("content-type", "application/octet-stream")
                .body(bytes),
        )
        .await
    }

    /// Applies a previewed import (`confirm` for one the preview says is held).
    pub async fn import_apply(&self, id: ImportId, confirm: bool) -> Result<ImportApplied> {
        self.with_body(
            Method::POST,
            &paths::IMPORT_APPLY.with([&id]),
            &ImportApply { confirm },
        )
        .await
    }

    /// Where each copy of a message is.
    pub async fn message_status(&self, message_id: &str) -> Result<MessageStatus> {
        self.get(&paths::MESSAGE.with([&message_id])).await
    }

    /// Moves another learner's email address to learner `id`.
    pub async fn learner_email_move(
        &self,
        id: LearnerId,
        request: &EmailMove,
    ) -> Result<EmailMoved> {
        self.with_body(
            Method::POST,
            &paths::LEARNER_EMAIL_MOVE.with([&id]),
            request,
        )
        .await
    }

    /// Learners who may be one person with two accounts.
    pub async fn learner_duplicates(&self) -> Result<DuplicateList> {
        self.get(paths::LEARNER_DUPLICATES).await
    }

    /// Why a learner may not be able to sign in, with the fixes the caller may apply.
    pub async fn learner_diagnosis(&self, id: LearnerId) -> Result<Diagnosis> {
        self.get(&paths::LEARNER_DIAGNOSIS.with([&id])).await
    }

    /// Lifts a learner's wait after wrong passwords.
    pub async fn learner_unlock(&self, id: LearnerId) -> Result<Unlocked> {
        self.send(self.request(Method::POST, &paths::LEARNER_UNLOCK.with([&id])))
            .await
    }

    /// Mails a learner a link to choose a new password.
    pub async fn learner_reset_link(&self, id: LearnerId) -> Result<ResetLinkSent> {
        self.send(self.request(Method::POST, &paths::LEARNER_RESET_LINK.with([&id])))
            .await
    }
}

pub use reqwest::Method as HttpMethod;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_accepted_only_for_this_computer_unless_allowed() {
        for local in [
            "http://localhost:8080",
            "http://LOCALHOST",
            "http://127.0.0.1:3000",
            "http://127.8.9.10",
            "http://[::1]:8080/",
        ] {
            assert!(Client::new(local).is_ok(), "{local}");
        }
        for remote in [
            "http://keys.school.example",
            "http://192.168.1.20:8080",
            "http://[2001:db8::1]",
            "http://localhost.evil.example",
        ] {
            let err = Client::new(remote).unwrap_err();
            assert!(matches!(err, Error::InsecureUrl { .. }), "{remote}: {err}");
            assert!(err.to_string().contains("https://"), "{err}");
            assert!(
                Client::new_allowing_insecure_http(remote).is_ok(),
                "{remote}"
            );
        }
        assert!(Client::new("https://keys.school.example").is_ok());
    }
}
