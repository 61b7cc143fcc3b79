//! Whether the school's pages give away who has an account through their timing (DESIGN §5):
//! for each public form, the median response time with an input naming a real account
//! against one naming nobody, measured in the same run, interleaved (so background work —
//! links issued, mail queued and written — weighs on both alike). Target: within 5 % of
//! each other.
//!
//! - "I forgot my password" with the username of a learner who has an email address, against
//!   an unknown username;
//! - "I forgot my username" with that learner's email address, against an unknown one;
//! - a failed sign-in with that learner's username, against an unknown username.
//!
//! The helper's limits are lifted for the run, so the real account's requests do all their
//! work (a link issued and a message queued each time) instead of being cut short.
//!
//! Run with `cargo bench -p classkeys-server --bench login_help`
//! (`CLASSKEYS_BENCH_BACKEND=postgres` with `CLASSKEYS_TEST_POSTGRES_URL` for PostgreSQL).

use std::time::{Duration, Instant};

use classkeys_protocol::roster::LearnerQuery;
use classkeys_server::{Backend, Settings};
use classkeys_testsupport::TestServer;

/// Requests of each kind per form: enough for a stable median on a shared 2-core machine.
const PAIRS: usize = 1_000;
/// Sign-ins hash a password each (about 20 ms), so fewer of them.
const SIGN_IN_PAIRS: usize = 60;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// A browser without JavaScript: one CSRF cookie, forms posted with it.
struct Visitor {
    http: reqwest::Client,
    base: String,
    csrf: String,
}

impl Visitor {
    async fn new(base: &str) -> Visitor {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = http
            .get(format!("{base}/s/demo/help"))
            .send()
            .await
            .unwrap();
        let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
        let csrf = cookie
            .split(';')
            .next()
            .and_then(|pair| pair.strip_prefix("ck_csrf="))
            .unwrap()
            .to_owned();
        Visitor {
            http,
            base: base.to_owned(),
            csrf,
        }
    }

    /// Posts a form and returns how long the answer took, and its status.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (Duration, u16) {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let start = Instant::now();
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("ck_csrf={}", self.csrf))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        response.bytes().await.unwrap();
        (start.elapsed(), status)
    }
}

/// A public form, filled in naming a real account and naming nobody.
struct Form<'a> {
    what: &'a str,
    path: &'a str,
    real: Vec<(&'a str, &'a str)>,
    nobody: Vec<(&'a str, &'a str)>,
    pairs: usize,
}

/// Posts `form` naming the account and naming nobody in turn, `pairs` times each, and
/// reports the two medians and their ratio.
async fn compare(server: &TestServer, visitor: &Visitor, form: &Form<'_>) {
    let Form {
        what, path, pairs, ..
    } = *form;
    let (real, nobody) = (form.real.as_slice(), form.nobody.as_slice());
    let (mut with_account, mut without) = (Vec::new(), Vec::new());
    // A few unmeasured rounds first, so connection set-up and caches count for neither.
    for _ in 0..3 {
        visitor.post(path, real).await;
        visitor.post(path, nobody).await;
        settle(server).await;
    }
    for i in 0..pairs {
        // Alternating which goes first, so neither always follows the other's background work.
        let order = if i % 2 == 0 {
            [(real, true), (nobody, false)]
        } else {
            [(nobody, false), (real, true)]
        };
        for (fields, is_real) in order {
            let (took, status) = visitor.post(path, fields).await;
            // Each answer is timed on its own: the previous question's background work (a
            // link issued, a message queued) is done before the next is asked.
            settle(server).await;
            assert!(status < 500 && status != 429, "{what}: answered {status}");
            if is_real {
                with_account.push(took);
            } else {
                without.push(took);
            }
        }
    }
    let (a, b) = (median(with_account), median(without));
    let ratio = a.as_secs_f64() / b.as_secs_f64();
    println!(
        "{what}: account {} · no account (baseline) {} · ratio {ratio:.3} (target 0.95–1.05){}",
        ms(a),
        ms(b),
        if (0.95..=1.05).contains(&ratio) {
            ""
        } else {
            " OUTSIDE THE TARGET"
        }
    );
}

/// Waits until the helper's questions are answered and their mail has left.
async fn settle(server: &TestServer) {
    let state = server.state();
    state.help.idle().await;
    loop {
        let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail WHERE state = 'queued'")
            .fetch_one(state.db.pool())
            .await
            .unwrap();
        if queued == 0 {
            return;
        }
        // Delivered here if the server's own delivery has not got to it yet (each message
        // is claimed once, whoever gets there first).
        classkeys_server::mail_queue::deliver_due(state)
            .await
            .unwrap();
    }
}

#[tokio::main]
async fn main() {
    let backend = match std::env::var("CLASSKEYS_BENCH_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let mut settings = Settings::default();
    settings.throttle.help_per_address = i64::MAX;
    settings.throttle.help_per_recipient = i64::MAX;
    settings.throttle.per_address = i64::MAX;
    settings.throttle.per_school = i64::MAX;
    let server = TestServer::start_demo_with(backend, settings).await;
    let learner = server
        .staff_client("lead")
        .await
        .learners(&LearnerQuery {
            include_inactive: Some(false),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|l| l.email.is_some())
        .expect("a demo learner with an email address");
    let email = learner.email.clone().unwrap();
    println!("{backend}, {PAIRS} requests of each kind (sign-in: {SIGN_IN_PAIRS}), medians:");
    let visitor = Visitor::new(&server.url).await;
    let wrong = "not-the-password";
    let forms = [
        Form {
            what: "forgot password",
            path: "/s/demo/help/password",
            real: vec![("username", &learner.username)],
            nobody: vec![("username", "nobody.at.all")],
            pairs: PAIRS,
        },
        Form {
            what: "forgot username",
            path: "/s/demo/help/username",
            real: vec![("email", &email)],
            nobody: vec![("email", "nobody.at.all@example.org")],
            pairs: PAIRS,
        },
        Form {
            what: "failed sign-in",
            path: "/s/demo/sign-in",
            real: vec![("username", &learner.username), ("password", wrong)],
            nobody: vec![("username", "nobody.at.all"), ("password", wrong)],
            pairs: SIGN_IN_PAIRS,
        },
    ];
    for form in &forms {
        compare(&server, &visitor, form).await;
    }
    server.stop().await;
}
