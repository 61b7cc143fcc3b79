//! Large schools for benchmarks, written through the same operations the API uses.

use classkeys_domain::secret::Sensitive;

use crate::TestServer;

/// A large school for benchmarks: `slug` with a lead teacher `lead` (password
/// [`DEMO_PASSWORD`](crate::DEMO_PASSWORD)),
/// `classes` classes ("Class 000"…) and `learners` learners spread over them, with names in
/// four scripts and an email for every third learner. Written in one transaction through
/// the same operations the API uses, so the data is exactly what a real school would hold.
///
/// # Panics
/// When any write fails (a benchmark has nothing sensible to do then).
pub async fn seed_large_school(server: &TestServer, slug: &str, classes: usize, learners: usize) {
    use classkeys_domain::identity::Role;
    use classkeys_domain::ids::{ClassId, LearnerId};
    use classkeys_domain::policy::Actor;
    use classkeys_protocol::sync::OpKind;

    use classkeys_server::admin::{self, NewStaff};
    use classkeys_server::ops::{self, ChangeCtx};

    let state = server.state();
    let mut conn = state.db.pool().acquire().await.expect("a connection");
    let school = admin::create_school(&mut conn, &state.keys, "Benchmark School", slug)
        .await
        .expect("creating the school");
    drop(conn);
    let (mut tx, seq) = state
        .db
        .begin_change(&school.to_string())
        .await
        .expect("a change");
    let lead = admin::create_staff(
        &mut tx,
        &state.hasher,
        school,
        seq,
        NewStaff {
            username: "lead",
            display_name: None,
            role: Role::LeadTeacher,
            email: None,
            password: Sensitive::new(crate::DEMO_PASSWORD.into()),
        },
    )
    .await
    .expect("creating the lead teacher");
    let actor = Actor {
        staff_id: lead,
        school_id: school,
        role: Role::LeadTeacher,
    };
    let cx = ChangeCtx::new(actor, seq, classkeys_server::db::now_ms());
    let mut class_ids = Vec::with_capacity(classes);
    for i in 0..classes {
        let class_id = ClassId::generate();
        let op = OpKind::ClassCreate {
            class_id,
            name: format!("Class {i:03}"),
            year_group: Some(format!("Year {}", i % 13)),
        };
        ops::apply(&mut tx, &cx, &op, None)
            .await
            .expect("creating a class");
        class_ids.push(class_id);
    }
    for i in 0..learners {
        let op = OpKind::LearnerCreate {
            learner_id: LearnerId::generate(),
            given_name: format!("Learner{i}"),
            family_name: ["Nowak", "Nguyễn", "Ó Briain", "Петров"][i % 4].into(),
            username: Some(format!("learner{i:05}")),
            email: (i % 3 == 0).then(|| format!("learner{i}@bench.example")),
            classes: vec![class_ids[i % classes]],
        };
        ops::apply(&mut tx, &cx, &op, None)
            .await
            .expect("creating a learner");
    }
    tx.commit().await.expect("committing the school");
}

/// Gives every learner of `slug` a teacher-set password and a parent access code, sealed as
/// a reset would leave them, for export benchmarks. All share one argon2 hash (made once):
/// hashing 100,000 passwords would take the benchmark an hour and measures nothing here.
///
/// # Panics
/// When any write fails.
pub async fn seed_sealed_credentials(server: &TestServer, slug: &str) {
    use classkeys_domain::generator::{self, PasswordStyle};
    use classkeys_domain::sealing::{self, Field, Scope, SealContext};
    let state = server.state();
    let (school, wrapped): (String, String) =
        sqlx::query_as("SELECT id, wrapped_data_key FROM school WHERE slug = $1")
            .bind(slug)
            .fetch_one(state.db.pool())
            .await
            .expect("the school");
    let key = state
        .keys
        .school_key(&school, &wrapped)
        .expect("the school's key");
    let hash = state
        .hasher
        .hash(
            classkeys_server::password::Work::Staff,
            Sensitive::new("shared-benchmark-hash".into()),
        )
        .await
        .expect("a hash");
    let learners: Vec<(String, i64)> =
        sqlx::query_as("SELECT id, credential_epoch FROM learner WHERE school_id = $1")
            .bind(&school)
            .fetch_all(state.db.pool())
            .await
            .expect("the learners");
    let mut tx = state.db.pool().begin().await.expect("a transaction");
    for (id, epoch) in &learners {
        let context = |epoch, field| SealContext {
            scope: Scope::School,
            owner: &school,
            learner: id,
            epoch,
            field,
        };
        let mut rng = rand::rng();
        let password = generator::generate(PasswordStyle::Words, &mut rng);
        let code = generator::parent_access_code(&mut rng);
        let sealed_password = sealing::seal(
            &key,
            &context(*epoch, Field::Password),
            password.expose(),
            &mut rng,
        );
        let sealed_code = sealing::seal(
            &key,
            &context(0, Field::ParentCode),
            code.expose(),
            &mut rng,
        );
        let fingerprint = sealing::fingerprint(&key, Field::ParentCode, code.expose());
        sqlx::query(
            "UPDATE learner SET password_hash = $1, password_sealed = $2, password_set_by = 'teacher',
                parent_code_sealed = $3, parent_code_fingerprint = $4 WHERE id = $5",
        )
        .bind(&hash)
        .bind(sealed_password.as_str())
        .bind(sealed_code.as_str())
        .bind(&fingerprint)
        .bind(id)
        .execute(&mut *tx)
        .await
        .expect("sealing a learner's codes");
    }
    tx.commit().await.expect("committing the codes");
}
