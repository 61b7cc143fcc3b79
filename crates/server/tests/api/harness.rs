//! Shared fixtures: the demo school signed in as each kind of user, plus a second school.

#![allow(dead_code)]

use classkeys_client::Client;
use classkeys_domain::generator::{self, PasswordStyle};
use classkeys_domain::identity::Role;
use classkeys_domain::ids::LearnerId;
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::ErrorCode;
use classkeys_protocol::auth::SignInRequest;
use classkeys_protocol::credentials::{
    AccessCode, LearnerPasswordReset, LearnerSignInRequest, PasswordSource,
};
use classkeys_protocol::roster::{ClassRecord, LearnerQuery, LearnerRecord, NewClass, NewLearner};
use classkeys_server::Backend;
use classkeys_server::admin::{self, NewStaff};
use classkeys_testsupport::TestServer;
pub use classkeys_testsupport::new_passwords;

/// Every demo account's password in tests.
pub use classkeys_testsupport::DEMO_PASSWORD as PASSWORD;

/// Runs each named `async fn NAME(backend: Backend)` as two tests, `NAME::sqlite` and
/// `NAME::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(classkeys_server::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if classkeys_testsupport::postgres_admin_url().is_none() {
                        eprintln!("skipped: set CLASSKEYS_TEST_POSTGRES_URL to run on PostgreSQL");
                        return;
                    }
                    super::$name(classkeys_server::Backend::Postgres).await;
                }
            }
        )*
    };
}

/// The demo school, signed in as each role, and a second school with its own lead teacher,
/// class ("Other 1") and learner (`other.learner`).
pub struct World {
    /// The server (stop it at the end of the test to drop its PostgreSQL database).
    pub server: TestServer,
    /// Not signed in.
    pub anon: Client,
    /// The demo lead teacher.
    pub lead: Client,
    /// Teaches Reception Robins, 1 Owls and 3 Badgers.
    pub teacher1: Client,
    /// Teaches 2 Foxes, 3 Badgers and 4B.
    pub teacher2: Client,
    /// Teaches 5 Kestrels and 6 Herons.
    pub teacher3: Client,
    /// Lead teacher of the other school.
    pub other_lead: Client,
}

/// Makes a school holding only its lead teacher `lead` (password [`PASSWORD`]).
async fn school_with_lead(server: &TestServer, name: &str, slug: &str, lead: &str) {
    let state = server.state();
    let mut conn = state.db.pool().acquire().await.unwrap();
    let school = admin::create_school(&mut conn, &state.keys, name, slug)
        .await
        .unwrap();
    drop(conn);
    let (mut tx, seq) = state.db.begin_change(&school.to_string()).await.unwrap();
    admin::create_staff(
        &mut tx,
        &state.hasher,
        school,
        seq,
        NewStaff {
            username: lead,
            display_name: Some("Other Lead"),
            role: Role::LeadTeacher,
            email: None,
            password: Sensitive::new(PASSWORD.to_owned()),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

impl World {
    /// Starts a demo server on `backend` and signs everyone in.
    pub async fn start(backend: Backend) -> World {
        let server = TestServer::start_demo(backend).await;
        school_with_lead(&server, "Other School", "other", "lead").await;

        let anon = Client::new(&server.url).unwrap();
        let lead = sign_in(&anon, "demo", "lead").await;
        let teacher1 = sign_in(&anon, "demo", "teacher1").await;
        let teacher2 = sign_in(&anon, "demo", "teacher2").await;
        let teacher3 = sign_in(&anon, "demo", "teacher3").await;
        let other_lead = sign_in(&anon, "other", "lead").await;
        let class = other_lead
            .class_create(&NewClass {
                id: None,
                name: "Other 1".into(),
                year_group: None,
            })
            .await
            .unwrap();
        other_lead
            .learner_create(&NewLearner {
                id: None,
                given_name: "Other".into(),
                family_name: "Learner".into(),
                username: Some("other.learner".into()),
                email: None,
                classes: vec![class.id],
            })
            .await
            .unwrap();
        World {
            server,
            anon,
            lead,
            teacher1,
            teacher2,
            teacher3,
            other_lead,
        }
    }

    /// A new school `slug` with nothing in it but its lead teacher `lead`, signed in.
    pub async fn empty_school(&self, slug: &str, lead: &str) -> Client {
        school_with_lead(&self.server, "Empty School", slug, lead).await;
        sign_in(&self.anon, slug, lead).await
    }

    /// Stops the server.
    pub async fn stop(self) {
        self.server.stop().await;
    }
}

/// Signs in to `school` as `username` with [`PASSWORD`].
pub async fn sign_in(anon: &Client, school: &str, username: &str) -> Client {
    let (client, _session) = anon
        .sign_in(&SignInRequest {
            school: Some(school.into()),
            username: username.into(),
            password: PASSWORD.into(),
            device_token: None,
        })
        .await
        .unwrap_or_else(|e| panic!("signing in as {username}: {e}"));
    client
}

/// The class with this name, as `client` sees it.
pub async fn class(client: &Client, name: &str) -> ClassRecord {
    client
        .classes()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no class {name} visible"))
}

/// The learner with this username, as `client` sees them.
pub async fn learner(client: &Client, username: &str) -> LearnerRecord {
    let page = client
        .learners(&LearnerQuery {
            q: Some(username.into()),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap();
    page.items
        .into_iter()
        .find(|l| l.username == username)
        .unwrap_or_else(|| panic!("no learner {username} visible"))
}

/// A password of `style`, as the app generates it.
pub fn generated(style: PasswordStyle) -> String {
    generator::generate(style, &mut rand::rng())
        .expose()
        .clone()
}

/// The active learners of `class`, as `client` sees them.
pub async fn active_learners(client: &Client, class: &str) -> Vec<LearnerRecord> {
    let class = self::class(client, class).await;
    client
        .learners(&LearnerQuery {
            class_id: Some(class.id),
            include_inactive: Some(false),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
}

/// Signs a demo learner in: their session, or the refusal's code.
pub async fn learner_sign_in(
    world: &World,
    username: &str,
    password: &str,
) -> Result<Client, ErrorCode> {
    world
        .anon
        .learner_sign_in(&LearnerSignInRequest {
            school: "demo".into(),
            username: username.into(),
            password: password.into(),
            device_token: None,
        })
        .await
        .map(|session| world.anon.clone().with_token(session.token))
        .map_err(|e| e.code().expect("an API error"))
}

/// Sets one learner's password, not to be changed at sign-in: the access codes answered.
pub async fn reset(
    client: &Client,
    id: LearnerId,
    password: &str,
    source: PasswordSource,
) -> Vec<AccessCode> {
    client
        .learner_password_reset(
            id,
            &LearnerPasswordReset {
                password: password.into(),
                source,
                must_change: false,
            },
        )
        .await
        .unwrap()
        .codes
}

/// A master key file as an admin makes one: readable by its owner only.
pub fn write_private_key(path: &std::path::Path) {
    std::fs::write(path, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// The first active learner of `class`, given a new generated password of `style` by
/// `teacher` (not to be changed at sign-in): the learner, and the password.
pub async fn learner_with_password(
    teacher: &Client,
    class: &str,
    style: PasswordStyle,
) -> (LearnerRecord, String) {
    let learner = active_learners(teacher, class).await.remove(0);
    let password = generated(style);
    reset(teacher, learner.id, &password, PasswordSource::Generated).await;
    (learner, password)
}
