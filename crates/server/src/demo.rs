//! The demo school "Demo Primary" (slug `demo`), for trying ClassKeys out and for tests.
//!
//! Seven classes over Reception to Year 6, three teachers and a lead teacher, and 189
//! learners whose names reflect a real school: accents, non-Latin scripts, apostrophes, two
//! learners with the same name, some with email addresses, one deactivated learner who still
//! holds an email address. Seeding runs in one transaction and does nothing if the school
//! exists, so it never duplicates anything.

use anyhow::Context;
use classkeys_domain::generator::{self, PasswordStyle};
use classkeys_domain::identity::Role;
use classkeys_domain::ids::{ClassId, LearnerId, StaffId};
use classkeys_domain::policy::Actor;
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::sync::OpKind;
use sqlx::AnyConnection;

use crate::admin::{self, NewStaff};
use crate::credentials;
use crate::db;
use crate::ops::{self, ChangeCtx};
use crate::state::AppState;
use crate::stored::{SetBy, Sql};

/// The demo school's slug.
pub const SLUG: &str = "demo";
/// The demo school's name.
pub const NAME: &str = "Demo Primary";

const STAFF: [(&str, &str, Role); 4] = [
    ("lead", "Mrs Adebayo", Role::LeadTeacher),
    ("teacher1", "Mr Hughes", Role::Teacher),
    ("teacher2", "Ms Kowalczyk", Role::Teacher),
    ("teacher3", "Mx Tanaka", Role::Teacher),
];

/// Classes with their year group and teachers (indexes into `STAFF`).
const CLASSES: [(&str, &str, &[usize]); 7] = [
    ("Reception Robins", "Reception", &[1]),
    ("1 Owls", "Year 1", &[1]),
    ("2 Foxes", "Year 2", &[2]),
    ("3 Badgers", "Year 3", &[1, 2]),
    ("4B", "Year 4", &[2]),
    ("5 Kestrels", "Year 5", &[3]),
    ("6 Herons", "Year 6", &[3]),
];

/// The class (index into `CLASSES`) whose learners start with teacher-set passwords.
const CLASS_WITH_PASSWORDS: usize = 3;

/// Learners placed by hand: given name, family name, class index.
const NAMED: [(&str, &str, usize); 8] = [
    ("Zoë", "Adams", 0),
    ("Siobhán", "O'Brien", 1),
    ("Văn An", "Nguyễn", 2),
    ("Łukasz", "Kowalski", 3),
    ("Mohammed", "Ali", 4),
    ("Александр", "Петров", 5),
    ("Mohammed", "Ali", 6),
    ("Tobias", "Becker", 6),
];

const GIVEN: [&str; 48] = [
    "Amelia",
    "Oliver",
    "Aisha",
    "Chen",
    "Priya",
    "Kwame",
    "Sofia",
    "Mateo",
    "Freya",
    "Oisín",
    "Niamh",
    "Yusuf",
    "Leila",
    "Hiroshi",
    "Ingrid",
    "Björn",
    "Chloé",
    "François",
    "Ana",
    "João",
    "Fatima",
    "Dmitri",
    "Olga",
    "Kofi",
    "Amara",
    "Ravi",
    "Ananya",
    "Tomás",
    "Saoirse",
    "Eliška",
    "Jakub",
    "Zainab",
    "Ibrahim",
    "Mei",
    "Wei",
    "Hannah",
    "Noah",
    "Isla",
    "Jack",
    "Grace",
    "Harry",
    "Ava",
    "Leo",
    "Ella",
    "Arjun",
    "Emeka",
    "Chiamaka",
    "Søren",
];

const FAMILY: [&str; 47] = [
    "Smith",
    "Jones",
    "Nowak",
    "Okafor",
    "Mensah",
    "Patel",
    "Khan",
    "Ahmed",
    "Singh",
    "García",
    "Müller",
    "Schmidt",
    "Dubois",
    "Rossi",
    "Silva",
    "Tran",
    "Kim",
    "Park",
    "Wang",
    "Li",
    "Murphy",
    "Kelly",
    "O'Connor",
    "Byrne",
    "Andersson",
    "Johansson",
    "Novák",
    "Dvořák",
    "Yılmaz",
    "Popescu",
    "Иванова",
    "Haddad",
    "Mwangi",
    "Adeyemi",
    "Brown",
    "Taylor",
    "Wilson",
    "Evans",
    "Thomas",
    "Lewis",
    "Ó Briain",
    "MacDonald",
    "Fernández",
    "Costa",
    "Παπαδόπουλος",
    "Horvat",
    "Nielsen",
];

/// Learners per class.
const PER_CLASS: usize = 27;

/// A demo sign-in, with its password when this run set it.
#[derive(Debug)]
pub struct DemoSignIn {
    /// Username.
    pub username: &'static str,
    /// Role.
    pub role: Role,
    /// The password, when this run created or reset it.
    pub password: Option<Sensitive<String>>,
}

/// What seeding did.
#[derive(Debug)]
pub struct DemoReport {
    /// Whether the school was created now (false: it existed already).
    pub created: bool,
    /// The staff sign-ins.
    pub sign_ins: Vec<DemoSignIn>,
    /// Learners in the school.
    pub learners: i64,
}

/// Seeds the demo school unless it exists. With `password`, every demo staff account gets
/// it (also when the school exists already); without, new accounts get generated passwords.
pub async fn seed(
    state: &AppState,
    password: Option<Sensitive<String>>,
) -> anyhow::Result<DemoReport> {
    let mut tx = state.db.pool().begin().await?;
    let existing: Option<String> = sqlx::query_scalar("SELECT id FROM school WHERE slug = $1")
        .bind(SLUG)
        .fetch_optional(&mut *tx)
        .await?;
    let sign_ins = if let Some(school) = existing {
        let mut sign_ins = Vec::new();
        let seq = db::take_change_number(&mut tx, &school).await?;
        for (username, _, role) in STAFF {
            if let Some(password) = &password {
                admin::set_staff_password(
                    &mut tx,
                    &state.hasher,
                    db::parse_id(&school)?,
                    seq,
                    username,
                    password.clone(),
                )
                .await?;
            }
            sign_ins.push(DemoSignIn {
                username,
                role,
                password: password.clone(),
            });
        }
        let learners = count_learners(&mut tx, &school).await?;
        tx.commit().await?;
        return Ok(DemoReport {
            created: false,
            sign_ins,
            learners,
        });
    } else {
        create(state, &mut tx, password).await?
    };
    let school = admin::school_by_slug(&mut tx, SLUG).await?;
    let learners = count_learners(&mut tx, &school.to_string()).await?;
    tx.commit().await.context("saving the demo school")?;
    Ok(DemoReport {
        created: true,
        sign_ins,
        learners,
    })
}

async fn count_learners(conn: &mut AnyConnection, school: &str) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM learner WHERE school_id = $1")
            .bind(school)
            .fetch_one(&mut *conn)
            .await?,
    )
}

async fn create(
    state: &AppState,
    conn: &mut AnyConnection,
    password: Option<Sensitive<String>>,
) -> anyhow::Result<Vec<DemoSignIn>> {
    let school = admin::create_school(conn, &state.keys, NAME, SLUG).await?;
    let seq = db::take_change_number(conn, &school.to_string()).await?;
    // A crest colour of its own, so the pages show whose they are.
    sqlx::query("UPDATE school SET settings = $1 WHERE id = $2")
        .bind(r##"{"appearance":{"crest_colour":"#2e6b3f"}}"##)
        .bind(school.to_string())
        .execute(&mut *conn)
        .await?;

    let mut sign_ins = Vec::new();
    let mut staff_ids: Vec<StaffId> = Vec::new();
    for (username, display_name, role) in STAFF {
        let password = password.clone().unwrap_or_else(|| {
            state
                .rng
                .with(|rng| generator::generate(PasswordStyle::Random, rng))
        });
        let new = NewStaff {
            username,
            display_name: Some(display_name),
            role,
            email: Some(&format!("{username}@staff.demo-primary.example")),
            password: password.clone(),
        };
        staff_ids.push(admin::create_staff(conn, &state.hasher, school, seq, new).await?);
        sign_ins.push(DemoSignIn {
            username,
            role,
            password: Some(password),
        });
    }

    let lead = Actor {
        staff_id: staff_ids[0],
        school_id: school,
        role: Role::LeadTeacher,
    };
    let cx = ChangeCtx::new(lead, seq, db::now_ms());
    let mut class_ids = Vec::new();
    for (name, year_group, teachers) in CLASSES {
        let class_id = ClassId::generate();
        run(
            conn,
            &cx,
            OpKind::ClassCreate {
                class_id,
                name: name.into(),
                year_group: Some(year_group.into()),
            },
        )
        .await?;
        for teacher in teachers {
            run(
                conn,
                &cx,
                OpKind::ClassAssignTeacher {
                    class_id,
                    staff_id: staff_ids[*teacher],
                },
            )
            .await?;
        }
        class_ids.push(class_id);
    }

    let mut placed = [0usize; CLASSES.len()];
    let mut deactivate = None;
    for (given, family, class) in NAMED {
        let id = add_learner(conn, &cx, given, family, class_ids[class], placed[class]).await?;
        placed[class] += 1;
        if given == "Tobias" {
            deactivate = Some(id);
        }
    }
    let mut n = 0usize;
    for (class, count) in placed.iter_mut().enumerate() {
        while *count < PER_CLASS {
            // Stride through both lists so neighbours in a class rarely share a name part.
            let given = GIVEN[(n * 7 + class) % GIVEN.len()];
            let family = FAMILY[(n * 11 + class * 3) % FAMILY.len()];
            add_learner(conn, &cx, given, family, class_ids[class], *count).await?;
            *count += 1;
            n += 1;
        }
    }
    // One class starts with teacher-set passwords (one learner has since chosen their own),
    // so access codes, reveals and login cards have something to show; the others start
    // without passwords, as a freshly imported roster does.
    let badgers = class_ids[CLASS_WITH_PASSWORDS].to_string();
    let learners: Vec<String> = sqlx::query_scalar(
        "SELECT e.learner_id FROM enrollment e JOIN learner l ON l.id = e.learner_id
         WHERE e.class_id = $1 ORDER BY l.sort_key",
    )
    .bind(&badgers)
    .fetch_all(&mut *conn)
    .await?;
    credentials::seed_generated_passwords(
        conn,
        state,
        &school.to_string(),
        seq,
        &learners,
        PasswordStyle::Words,
    )
    .await
    .map_err(|e| anyhow::anyhow!("seeding demo passwords: {}", e.into_body()))?;
    sqlx::query("UPDATE learner SET password_set_by = $2, password_sealed = NULL WHERE id = $1")
        .bind(&learners[learners.len() / 2])
        .bind(Sql(SetBy::Learner))
        .execute(&mut *conn)
        .await?;
    if let Some(learner_id) = deactivate {
        run(
            conn,
            &cx,
            OpKind::LearnerSetActive {
                learner_id,
                active: false,
            },
        )
        .await?;
    }
    Ok(sign_ins)
}

async fn run(conn: &mut AnyConnection, cx: &ChangeCtx, op: OpKind) -> anyhow::Result<()> {
    ops::apply(conn, cx, &op, None)
        .await
        .map_err(|e| anyhow::anyhow!("seeding the demo school: {}", e.into_body()))?;
    Ok(())
}

async fn add_learner(
    conn: &mut AnyConnection,
    cx: &ChangeCtx,
    given: &str,
    family: &str,
    class: ClassId,
    position: usize,
) -> anyhow::Result<LearnerId> {
    let learner_id = LearnerId::generate();
    // Some learners have email addresses (older ones more often); the deactivated learner
    // keeps his, which is what makes "that email belongs to a deactivated account" real.
    let email = (position % 4 == 1 || given == "Tobias").then(|| {
        let local = classkeys_domain::text::ascii_letters(&format!("{given}{family}"));
        format!("{local}{position}@pupils.demo-primary.example")
    });
    run(
        conn,
        cx,
        OpKind::LearnerCreate {
            learner_id,
            given_name: given.into(),
            family_name: family.into(),
            username: None,
            email,
            classes: vec![class],
        },
    )
    .await?;
    Ok(learner_id)
}
