//! The authorization matrix: every endpoint × {teacher of the class, teacher of another class,
//! lead teacher, lead teacher of another school, anonymous}, called directly over HTTP.
//!
//! Each row of [`rows`] names a request and the answer each kind of caller must get. The
//! matrix test runs every cell and collects every wrong one before failing, so one run names
//! all of them. Besides the status and error code, each cell checks what a caller would
//! notice:
//! - a response never holds the id of a class or learner the caller may not see;
//! - a 404 for something hidden is byte for byte the 404 for a made-up id, so a denial never
//!   tells whether the thing exists;
//! - a refused change changes nothing (compared through both lead teachers' views), and an
//!   allowed one changes the right school;
//! - lists show the target to those who may see it and to nobody else.
//!
//! Cells that change something each get fresh targets, made by the lead teacher first, so no
//! cell sees another's effects.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Display;

use classkeys_client::{Client, HttpMethod as Method};
use classkeys_domain::ids::{ClassId, ImportId, LearnerId, OperationId, StaffId};
use classkeys_protocol::imports::ImportQuery;
use classkeys_protocol::roster::{
    ClassRecord, LearnerMove, LearnerQuery, LearnerRecord, NewLearner,
};
use classkeys_protocol::sync::{
    Change, OpKind, Operation, Outcome, PullQuery, PushRequest, PushResponse, Record,
};
use classkeys_protocol::{ErrorBody, ErrorCode, paths};
use classkeys_server::Backend;
use serde_json::{Value, json};

use crate::harness::{self, World};
use crate::on_both_backends;

on_both_backends!(
    every_endpoint_answers_each_kind_of_caller_as_the_policy_says,
    a_teacher_finds_exactly_their_classes_learners_by_search_and_by_sync,
    a_username_or_email_clash_names_only_accounts_the_caller_may_see,
);

// ---------------------------------------------------------------------------------------
// Who asks, and what they should get.

/// The five kinds of caller, in the order of a row's expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    /// teacher1, who teaches the target classes.
    ClassTeacher,
    /// teacher3, who teaches other classes of the same school.
    OtherTeacher,
    /// The demo school's lead teacher.
    Lead,
    /// The other school's lead teacher.
    OtherSchool,
    /// No session.
    Anonymous,
}

const EVERYONE: [Who; 5] = [
    Who::ClassTeacher,
    Who::OtherTeacher,
    Who::Lead,
    Who::OtherSchool,
    Who::Anonymous,
];

impl Display for Who {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Who::ClassTeacher => "teacher of the class",
            Who::OtherTeacher => "teacher of another class",
            Who::Lead => "lead teacher",
            Who::OtherSchool => "lead of another school",
            Who::Anonymous => "anonymous",
        })
    }
}

impl Who {
    /// Whether this caller belongs to the demo school.
    fn in_demo_school(self) -> bool {
        matches!(self, Who::ClassTeacher | Who::OtherTeacher | Who::Lead)
    }

    /// Whether this caller may see the targets of the demo school's class A.
    fn sees_targets(self) -> bool {
        matches!(self, Who::ClassTeacher | Who::Lead)
    }
}

/// The answer a cell expects (or got).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Done: this 2xx status (for a push, 200 means the operation was applied).
    Done(u16),
    /// Refused with this code, at the status the code goes with (for a push with a session,
    /// the operation came back `rejected` with this code).
    Refused(ErrorCode),
}

const OK: Want = Want::Done(200);
const CREATED: Want = Want::Done(201);
const NO_CONTENT: Want = Want::Done(204);
const APPLIED: Want = Want::Done(200);
const HIDDEN: Want = Want::Refused(ErrorCode::NotFound);
const FORBIDDEN: Want = Want::Refused(ErrorCode::Forbidden);
const ANON: Want = Want::Refused(ErrorCode::Unauthenticated);
const NO_ADDRESS: Want = Want::Refused(ErrorCode::InvalidInput);
const UNREADABLE: Want = Want::Refused(ErrorCode::InvalidInput);

fn code_name(code: ErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{code:?}"))
}

fn show(want: Want, push: bool) -> String {
    match want {
        Want::Done(_) if push => "applied".into(),
        Want::Done(status) => status.to_string(),
        Want::Refused(ErrorCode::Unauthenticated) => "401 unauthenticated".into(),
        Want::Refused(code) if push => format!("rejected {}", code_name(code)),
        Want::Refused(code) => format!("{} {}", code.http_status(), code_name(code)),
    }
}

// ---------------------------------------------------------------------------------------
// Targets: the records a row's requests are about.

/// A fresh corner of the demo school, made by its lead teacher for one cell (or shared by
/// the cells that only read), plus records of the other school.
#[derive(Debug, Clone)]
struct Targets {
    /// Makes names and usernames unique: `Matrix {tag} …`, `mx{tag}x-…`.
    tag: u32,
    /// Class A, taught by teacher1, holding `learner` and `shared`.
    class: ClassId,
    /// Class B, taught by teacher1, empty.
    spare: ClassId,
    /// Class X, taught by teacher2 only, holding `stranger` and `shared`.
    elsewhere: ClassId,
    /// In class A only.
    learner: LearnerId,
    /// In class X only.
    stranger: LearnerId,
    /// In classes A and X.
    shared: LearnerId,
    /// Free: the id a row that creates a class gives it.
    new_class: ClassId,
    /// Free: the id a row that creates a learner gives them.
    new_learner: LearnerId,
    /// teacher1.
    teacher: StaffId,
    /// teacher2.
    colleague: StaffId,
    /// The other school's lead teacher.
    outsider: StaffId,
    /// The other school's class "Other 1".
    foreign_class: ClassId,
    /// The other school's learner `other.learner`.
    foreign_learner: LearnerId,
    /// A roster import previewed by the lead teacher: one new learner in class A.
    import: ImportId,
}

/// The records every set of targets shares: staff, and the other school's class and learner.
#[derive(Debug, Clone, Copy)]
struct Known {
    teacher: StaffId,
    colleague: StaffId,
    outsider: StaffId,
    foreign_class: ClassId,
    foreign_learner: LearnerId,
}

impl Known {
    async fn find(world: &World) -> Known {
        Known {
            teacher: world.teacher1.me().await.unwrap().id,
            colleague: world.teacher2.me().await.unwrap().id,
            outsider: world.other_lead.me().await.unwrap().id,
            foreign_class: harness::class(&world.other_lead, "Other 1").await.id,
            foreign_learner: harness::learner(&world.other_lead, "other.learner")
                .await
                .id,
        }
    }
}

impl Targets {
    /// Makes the demo school's part as its lead teacher, in one push.
    async fn create(world: &World, known: Known, tag: u32) -> Targets {
        let t = Targets {
            tag,
            class: ClassId::generate(),
            spare: ClassId::generate(),
            elsewhere: ClassId::generate(),
            learner: LearnerId::generate(),
            stranger: LearnerId::generate(),
            shared: LearnerId::generate(),
            new_class: ClassId::generate(),
            new_learner: LearnerId::generate(),
            teacher: known.teacher,
            colleague: known.colleague,
            outsider: known.outsider,
            foreign_class: known.foreign_class,
            foreign_learner: known.foreign_learner,
            import: ImportId::generate(),
        };
        let class = |class_id, letter: &str| OpKind::ClassCreate {
            class_id,
            name: format!("Matrix {tag} {letter}"),
            year_group: None,
        };
        let learner = |learner_id, letter: &str, classes: Vec<ClassId>| OpKind::LearnerCreate {
            learner_id,
            given_name: "Matrix".into(),
            family_name: format!("{letter}{tag}"),
            username: Some(format!("mx{tag}x-{letter}")),
            email: None,
            classes,
        };
        let assign = |class_id, staff_id| OpKind::ClassAssignTeacher { class_id, staff_id };
        lead_push(
            world,
            vec![
                class(t.class, "A"),
                assign(t.class, t.teacher),
                class(t.spare, "B"),
                assign(t.spare, t.teacher),
                class(t.elsewhere, "X"),
                assign(t.elsewhere, t.colleague),
                learner(t.learner, "learner", vec![t.class]),
                learner(t.stranger, "stranger", vec![t.elsewhere]),
                learner(t.shared, "shared", vec![t.class, t.elsewhere]),
            ],
        )
        .await;
        let roster = format!("First name,Surname,Class\nMatrix,Imported{tag},Matrix {tag} A\n");
        let preview = world
            .lead
            .import_preview(&ImportQuery::default(), roster.into_bytes())
            .await
            .unwrap();
        Targets {
            import: preview.import_id,
            ..t
        }
    }

    /// The ids among these that `who` may not see.
    fn hidden_from(&self, who: Who) -> Vec<String> {
        let demo_hidden_from_teacher1 = [self.elsewhere.to_string(), self.stranger.to_string()];
        let demo_seen_by_teacher1 = [
            self.class.to_string(),
            self.spare.to_string(),
            self.learner.to_string(),
            self.shared.to_string(),
        ];
        let demo_staff = [
            self.teacher.to_string(),
            self.colleague.to_string(),
            self.import.to_string(),
        ];
        let foreign = [
            self.outsider.to_string(),
            self.foreign_class.to_string(),
            self.foreign_learner.to_string(),
        ];
        let mut ids = Vec::new();
        match who {
            Who::ClassTeacher => {
                ids.extend(demo_hidden_from_teacher1);
                ids.extend(foreign);
                ids.push(self.import.to_string());
            }
            Who::OtherTeacher => {
                ids.extend(demo_hidden_from_teacher1);
                ids.extend(demo_seen_by_teacher1);
                ids.extend(foreign);
                ids.push(self.import.to_string());
            }
            Who::Lead => ids.extend(foreign),
            Who::OtherSchool => {
                ids.extend(demo_hidden_from_teacher1);
                ids.extend(demo_seen_by_teacher1);
                ids.extend(demo_staff);
            }
            Who::Anonymous => {
                ids.extend(demo_hidden_from_teacher1);
                ids.extend(demo_seen_by_teacher1);
                ids.extend(demo_staff);
                ids.extend(foreign);
            }
        }
        ids
    }

    /// The same targets with every id `who` may not see replaced by a made-up one: the
    /// answer to these must be exactly the answer to the real ones.
    fn ghost(&self, who: Who) -> Targets {
        let hidden = self.hidden_from(who);
        fn swap<T: Display + Copy>(id: T, hidden: &[String], made_up: fn() -> T) -> T {
            if hidden.contains(&id.to_string()) {
                made_up()
            } else {
                id
            }
        }
        Targets {
            tag: self.tag,
            class: swap(self.class, &hidden, ClassId::generate),
            spare: swap(self.spare, &hidden, ClassId::generate),
            elsewhere: swap(self.elsewhere, &hidden, ClassId::generate),
            learner: swap(self.learner, &hidden, LearnerId::generate),
            stranger: swap(self.stranger, &hidden, LearnerId::generate),
            shared: swap(self.shared, &hidden, LearnerId::generate),
            new_class: self.new_class,
            new_learner: self.new_learner,
            teacher: swap(self.teacher, &hidden, StaffId::generate),
            colleague: swap(self.colleague, &hidden, StaffId::generate),
            outsider: swap(self.outsider, &hidden, StaffId::generate),
            foreign_class: swap(self.foreign_class, &hidden, ClassId::generate),
            foreign_learner: swap(self.foreign_learner, &hidden, LearnerId::generate),
            import: swap(self.import, &hidden, ImportId::generate),
        }
    }

    fn username(&self, letter: &str) -> String {
        format!("mx{}x-{letter}", self.tag)
    }

    fn name(&self, what: &str) -> String {
        format!("Matrix {} {what}", self.tag)
    }
}

/// Pushes operations as the demo lead teacher and insists that all were applied.
async fn lead_push(world: &World, ops: Vec<OpKind>) {
    let operations = ops
        .into_iter()
        .map(|op| Operation {
            id: OperationId::generate(),
            base_version: None,
            op,
        })
        .collect();
    let response = world
        .lead
        .sync_push(&PushRequest { operations })
        .await
        .expect("pushing the lead's setup");
    for result in response.results {
        assert!(
            matches!(result.outcome, Outcome::Applied { .. }),
            "setting up targets: {:?}",
            result.outcome
        );
    }
}

// ---------------------------------------------------------------------------------------
// Requests and rows.

struct Req {
    method: Method,
    path: String,
    body: Option<Value>,
}

fn get(path: impl Into<String>) -> Req {
    Req {
        method: Method::GET,
        path: path.into(),
        body: None,
    }
}

fn send(method: Method, path: impl Into<String>, body: Value) -> Req {
    Req {
        method,
        path: path.into(),
        body: Some(body),
    }
}

fn bare(method: Method, path: impl Into<String>) -> Req {
    Req {
        method,
        path: path.into(),
        body: None,
    }
}

/// One operation through sync push, with a fresh operation id each time it is built.
fn push(op: OpKind) -> Req {
    let request = PushRequest {
        operations: vec![Operation {
            id: OperationId::generate(),
            base_version: None,
            op,
        }],
    };
    send(
        Method::POST,
        paths::SYNC_PUSH,
        serde_json::to_value(request).unwrap(),
    )
}

/// What a row's request does besides answering.
#[derive(Clone, Copy)]
enum Effect {
    /// Nothing: cells share one set of targets.
    Reads,
    /// Lists: these ids show up for callers who may see the targets, and for nobody else.
    Lists(fn(&Targets) -> Vec<String>),
    /// Changes something: each cell gets fresh targets, and both schools are compared
    /// before and after.
    Changes,
    /// Ends the caller's session: each cell signs in afresh.
    SignsOut,
}

struct Row {
    what: &'static str,
    effect: Effect,
    request: fn(&Targets) -> Req,
    /// Done by the lead teacher after making the cell's targets.
    prepare: Option<fn(&Targets) -> OpKind>,
    /// In the order of [`EVERYONE`].
    want: [Want; 5],
}

fn row(what: &'static str, effect: Effect, request: fn(&Targets) -> Req, want: [Want; 5]) -> Row {
    Row {
        what,
        effect,
        request,
        prepare: None,
        want,
    }
}

/// Every endpoint, and the variants of it that the policy tells apart. Expectations are in
/// the order: teacher of the class, teacher of another class, lead teacher, lead of another
/// school, anonymous.
fn rows() -> Vec<Row> {
    use Effect::{Changes, Lists, Reads, SignsOut};
    let bad_credentials = Want::Refused(ErrorCode::InvalidCredentials);
    vec![
        // --- Open to everyone.
        row(
            "GET /healthz",
            Reads,
            |_| get(paths::HEALTHZ),
            [OK, OK, OK, OK, OK],
        ),
        row(
            "GET /api/openapi.json",
            Reads,
            |_| get(paths::OPENAPI),
            [OK, OK, OK, OK, OK],
        ),
        row(
            "POST /api/v1/auth/sign-in with a wrong password",
            Reads,
            |_| {
                send(
                    Method::POST,
                    paths::SIGN_IN,
                    json!({"school": "demo", "username": "nobody-at-all",
                           "password": "not-the-password"}),
                )
            },
            [bad_credentials; 5],
        ),
        // --- Sessions.
        row(
            "GET /api/v1/auth/me",
            Reads,
            |_| get(paths::ME),
            [OK, OK, OK, OK, ANON],
        ),
        row(
            "POST /api/v1/auth/sign-out",
            SignsOut,
            |_| bare(Method::POST, paths::SIGN_OUT),
            [NO_CONTENT, NO_CONTENT, NO_CONTENT, NO_CONTENT, ANON],
        ),
        // --- Classes.
        row(
            "GET /api/v1/classes",
            Lists(|t| vec![t.class.to_string()]),
            |_| get(paths::CLASSES),
            [OK, OK, OK, OK, ANON],
        ),
        row(
            "GET /api/v1/classes/{id}",
            Reads,
            |t| get(paths::CLASS.with([&t.class])),
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "GET /api/v1/classes/{id} of the other school's class",
            Reads,
            |t| get(paths::CLASS.with([&t.foreign_class])),
            [HIDDEN, HIDDEN, HIDDEN, OK, ANON],
        ),
        row(
            "POST /api/v1/classes",
            Changes,
            |t| {
                send(
                    Method::POST,
                    paths::CLASSES,
                    json!({"id": t.new_class, "name": t.name("new")}),
                )
            },
            [FORBIDDEN, FORBIDDEN, CREATED, CREATED, ANON],
        ),
        row(
            "PATCH /api/v1/classes/{id} renaming",
            Changes,
            |t| {
                send(
                    Method::PATCH,
                    paths::CLASS.with([&t.class]),
                    json!({"name": t.name("renamed")}),
                )
            },
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "PATCH /api/v1/classes/{id} archiving",
            Changes,
            |t| {
                send(
                    Method::PATCH,
                    paths::CLASS.with([&t.class]),
                    json!({"archived": true}),
                )
            },
            [FORBIDDEN, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "DELETE /api/v1/classes/{id} of an empty class",
            Changes,
            |t| bare(Method::DELETE, paths::CLASS.with([&t.spare])),
            [FORBIDDEN, HIDDEN, NO_CONTENT, HIDDEN, ANON],
        ),
        row(
            "PUT /api/v1/classes/{id}/teachers/{staff_id} assigning a colleague",
            Changes,
            |t| {
                bare(
                    Method::PUT,
                    paths::CLASS_TEACHER.with([&t.class, &t.colleague]),
                )
            },
            [FORBIDDEN, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "DELETE /api/v1/classes/{id}/teachers/{staff_id} unassigning the class's teacher",
            Changes,
            |t| {
                bare(
                    Method::DELETE,
                    paths::CLASS_TEACHER.with([&t.class, &t.teacher]),
                )
            },
            [FORBIDDEN, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "PUT /api/v1/classes/{id}/teachers/{staff_id} assigning the other school's lead",
            Changes,
            |t| {
                bare(
                    Method::PUT,
                    paths::CLASS_TEACHER.with([&t.class, &t.outsider]),
                )
            },
            [FORBIDDEN, HIDDEN, HIDDEN, HIDDEN, ANON],
        ),
        row(
            "DELETE /api/v1/classes/{id}/teachers/{staff_id} unassigning the other school's lead",
            Changes,
            |t| {
                bare(
                    Method::DELETE,
                    paths::CLASS_TEACHER.with([&t.class, &t.outsider]),
                )
            },
            [FORBIDDEN, HIDDEN, HIDDEN, HIDDEN, ANON],
        ),
        row(
            "PUT /api/v1/classes/{id}/teachers/{staff_id} putting the teacher on the other school's class",
            Changes,
            |t| {
                bare(
                    Method::PUT,
                    paths::CLASS_TEACHER.with([&t.foreign_class, &t.teacher]),
                )
            },
            [HIDDEN, HIDDEN, HIDDEN, HIDDEN, ANON],
        ),
        // --- Learners.
        row(
            "GET /api/v1/learners?q=…",
            Lists(|t| vec![t.learner.to_string(), t.shared.to_string()]),
            |t| get(format!("{}?q=mx{}x&limit=500", paths::LEARNERS, t.tag)),
            [OK, OK, OK, OK, ANON],
        ),
        row(
            "GET /api/v1/learners?class_id={id}",
            Lists(|t| vec![t.learner.to_string(), t.shared.to_string()]),
            |t| get(format!("{}?class_id={}", paths::LEARNERS, t.class)),
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "GET /api/v1/learners/{id}",
            Reads,
            |t| get(paths::LEARNER.with([&t.learner])),
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "GET /api/v1/learners/{id} of a learner also in another teacher's class",
            Reads,
            |t| get(paths::LEARNER.with([&t.shared])),
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "GET /api/v1/learners/{id} of a learner only in another teacher's class",
            Reads,
            |t| get(paths::LEARNER.with([&t.stranger])),
            [HIDDEN, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "GET /api/v1/learners/{id} of the other school's learner",
            Reads,
            |t| get(paths::LEARNER.with([&t.foreign_learner])),
            [HIDDEN, HIDDEN, HIDDEN, OK, ANON],
        ),
        row(
            "POST /api/v1/learners into the class",
            Changes,
            |t| {
                send(
                    Method::POST,
                    paths::LEARNERS,
                    json!({"id": t.new_learner, "given_name": "New", "family_name": "Learner",
                           "username": t.username("new"), "classes": [t.class]}),
                )
            },
            [CREATED, HIDDEN, CREATED, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/learners into another teacher's class",
            Changes,
            |t| {
                send(
                    Method::POST,
                    paths::LEARNERS,
                    json!({"id": t.new_learner, "given_name": "New", "family_name": "Learner",
                           "username": t.username("new"), "classes": [t.elsewhere]}),
                )
            },
            [HIDDEN, HIDDEN, CREATED, HIDDEN, ANON],
        ),
        row(
            "PATCH /api/v1/learners/{id}",
            Changes,
            |t| {
                send(
                    Method::PATCH,
                    paths::LEARNER.with([&t.learner]),
                    json!({"given_name": "Renamed"}),
                )
            },
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "PATCH /api/v1/learners/{id} of the other school's learner",
            Changes,
            |t| {
                send(
                    Method::PATCH,
                    paths::LEARNER.with([&t.foreign_learner]),
                    json!({"given_name": t.name("renamed")}),
                )
            },
            [HIDDEN, HIDDEN, HIDDEN, OK, ANON],
        ),
        row(
            "POST /api/v1/learners/{id}/enrolments into another of the teacher's classes",
            Changes,
            |t| {
                send(
                    Method::POST,
                    paths::LEARNER_ENROLMENTS.with([&t.learner]),
                    json!({"class_id": t.spare}),
                )
            },
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/learners/{id}/enrolments of the class's learner into another teacher's class",
            Changes,
            |t| {
                send(
                    Method::POST,
                    paths::LEARNER_ENROLMENTS.with([&t.learner]),
                    json!({"class_id": t.elsewhere}),
                )
            },
            [HIDDEN, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/learners/{id}/enrolments of another teacher's learner into the class",
            Changes,
            |t| {
                send(
                    Method::POST,
                    paths::LEARNER_ENROLMENTS.with([&t.stranger]),
                    json!({"class_id": t.class}),
                )
            },
            [HIDDEN, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "DELETE /api/v1/learners/{id}/enrolments/{class_id} (the learner's only class)",
            Changes,
            |t| {
                bare(
                    Method::DELETE,
                    paths::LEARNER_ENROLMENT.with([&t.learner, &t.class]),
                )
            },
            // The teacher no longer sees the learner afterwards, hence 204 rather than 200.
            [NO_CONTENT, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "DELETE /api/v1/learners/{id}/enrolments/{class_id} of another teacher's class",
            Changes,
            |t| {
                bare(
                    Method::DELETE,
                    paths::LEARNER_ENROLMENT.with([&t.shared, &t.elsewhere]),
                )
            },
            [HIDDEN, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/learners/{id}/move between the teacher's classes",
            Changes,
            |t| {
                send(
                    Method::POST,
                    paths::LEARNER_MOVE.with([&t.learner]),
                    json!({"from": t.class, "to": t.spare}),
                )
            },
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/learners/{id}/move into another teacher's class",
            Changes,
            |t| {
                send(
                    Method::POST,
                    paths::LEARNER_MOVE.with([&t.learner]),
                    json!({"from": t.class, "to": t.elsewhere}),
                )
            },
            [HIDDEN, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/learners/{id}/move out of another teacher's class into the class",
            Changes,
            |t| {
                send(
                    Method::POST,
                    paths::LEARNER_MOVE.with([&t.stranger]),
                    json!({"from": t.elsewhere, "to": t.class}),
                )
            },
            [HIDDEN, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/learners/{id}/deactivate",
            Changes,
            |t| {
                send(
                    Method::POST,
                    paths::LEARNER_DEACTIVATE.with([&t.learner]),
                    json!({}),
                )
            },
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        Row {
            prepare: Some(|t| OpKind::LearnerSetActive {
                learner_id: t.learner,
                active: false,
            }),
            ..row(
                "POST /api/v1/learners/{id}/reactivate",
                Changes,
                |t| {
                    send(
                        Method::POST,
                        paths::LEARNER_REACTIVATE.with([&t.learner]),
                        json!({}),
                    )
                },
                [OK, HIDDEN, OK, HIDDEN, ANON],
            )
        },
        Row {
            prepare: Some(|t| OpKind::LearnerUpdate {
                learner_id: t.shared,
                given_name: None,
                family_name: None,
                username: None,
                email: Some(Some(format!("mx{}-shared@home.example", t.tag))),
            }),
            ..row(
                "POST /api/v1/learners/{id}/email/move from a learner the caller sees",
                Changes,
                |t| {
                    send(
                        Method::POST,
                        paths::LEARNER_EMAIL_MOVE.with([&t.learner]),
                        json!({"from": t.shared}),
                    )
                },
                [OK, HIDDEN, OK, HIDDEN, ANON],
            )
        },
        row(
            // The stranger has no address: a caller who may see both is told so.
            "POST /api/v1/learners/{id}/email/move from another teacher's learner",
            Changes,
            |t| {
                send(
                    Method::POST,
                    paths::LEARNER_EMAIL_MOVE.with([&t.learner]),
                    json!({"from": t.stranger}),
                )
            },
            [HIDDEN, HIDDEN, NO_ADDRESS, HIDDEN, ANON],
        ),
        row(
            "GET /api/v1/instructions for a class",
            Reads,
            |t| {
                bare(
                    Method::GET,
                    format!("{}?class_id={}", paths::INSTRUCTIONS, t.class),
                )
            },
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "GET /api/v1/instructions for a learner",
            Reads,
            |t| {
                bare(
                    Method::GET,
                    format!("{}?learner_id={}", paths::INSTRUCTIONS, t.learner),
                )
            },
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            // A JSON body is no roster file: a caller who may import is told why.
            "POST /api/v1/imports/preview",
            Reads,
            |_| {
                send(
                    Method::POST,
                    paths::IMPORT_PREVIEW,
                    json!({"not": "a roster"}),
                )
            },
            [FORBIDDEN, FORBIDDEN, UNREADABLE, UNREADABLE, ANON],
        ),
        row(
            "POST /api/v1/imports/{id}/apply",
            Changes,
            |t| {
                send(
                    Method::POST,
                    paths::IMPORT_APPLY.with([&t.import]),
                    json!({}),
                )
            },
            [FORBIDDEN, FORBIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "GET /api/v1/learners/duplicates",
            Reads,
            |_| bare(Method::GET, paths::LEARNER_DUPLICATES),
            [OK, OK, OK, OK, ANON],
        ),
        // --- Staff.
        row(
            "GET /api/v1/staff",
            Lists(|t| vec![t.teacher.to_string()]),
            |_| get(paths::STAFF),
            [FORBIDDEN, FORBIDDEN, OK, OK, ANON],
        ),
        // --- Sync.
        row(
            "GET /api/v1/sync/changes (a full pull)",
            Lists(|t| vec![t.class.to_string(), t.learner.to_string()]),
            |_| get(format!("{}?limit=1000", paths::SYNC_CHANGES)),
            [OK, OK, OK, OK, ANON],
        ),
        row(
            "POST /api/v1/sync/push class_create",
            Changes,
            |t| {
                push(OpKind::ClassCreate {
                    class_id: t.new_class,
                    name: t.name("pushed"),
                    year_group: None,
                })
            },
            [FORBIDDEN, FORBIDDEN, APPLIED, APPLIED, ANON],
        ),
        row(
            "POST /api/v1/sync/push class_update renaming",
            Changes,
            |t| {
                push(OpKind::ClassUpdate {
                    class_id: t.class,
                    name: Some(t.name("renamed")),
                    year_group: None,
                    archived: None,
                })
            },
            [APPLIED, HIDDEN, APPLIED, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/sync/push class_update archiving",
            Changes,
            |t| {
                push(OpKind::ClassUpdate {
                    class_id: t.class,
                    name: None,
                    year_group: None,
                    archived: Some(true),
                })
            },
            [FORBIDDEN, HIDDEN, APPLIED, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/sync/push class_delete of an empty class",
            Changes,
            |t| push(OpKind::ClassDelete { class_id: t.spare }),
            [FORBIDDEN, HIDDEN, APPLIED, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/sync/push class_assign_teacher",
            Changes,
            |t| {
                push(OpKind::ClassAssignTeacher {
                    class_id: t.class,
                    staff_id: t.colleague,
                })
            },
            [FORBIDDEN, HIDDEN, APPLIED, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/sync/push class_unassign_teacher",
            Changes,
            |t| {
                push(OpKind::ClassUnassignTeacher {
                    class_id: t.class,
                    staff_id: t.teacher,
                })
            },
            [FORBIDDEN, HIDDEN, APPLIED, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/sync/push learner_create into the class",
            Changes,
            |t| {
                push(OpKind::LearnerCreate {
                    learner_id: t.new_learner,
                    given_name: "Pushed".into(),
                    family_name: "Learner".into(),
                    username: Some(t.username("pushed")),
                    email: None,
                    classes: vec![t.class],
                })
            },
            [APPLIED, HIDDEN, APPLIED, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/sync/push learner_update",
            Changes,
            |t| {
                push(OpKind::LearnerUpdate {
                    learner_id: t.learner,
                    given_name: Some("Renamed".into()),
                    family_name: None,
                    username: None,
                    email: None,
                })
            },
            [APPLIED, HIDDEN, APPLIED, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/sync/push learner_enrol",
            Changes,
            |t| {
                push(OpKind::LearnerEnrol {
                    learner_id: t.learner,
                    class_id: t.spare,
                })
            },
            [APPLIED, HIDDEN, APPLIED, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/sync/push learner_unenrol",
            Changes,
            |t| {
                push(OpKind::LearnerUnenrol {
                    learner_id: t.learner,
                    class_id: t.class,
                })
            },
            [APPLIED, HIDDEN, APPLIED, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/sync/push learner_move",
            Changes,
            |t| {
                push(OpKind::LearnerMove {
                    learner_id: t.learner,
                    from: t.class,
                    to: t.spare,
                })
            },
            [APPLIED, HIDDEN, APPLIED, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/sync/push learner_set_active",
            Changes,
            |t| {
                push(OpKind::LearnerSetActive {
                    learner_id: t.learner,
                    active: false,
                })
            },
            [APPLIED, HIDDEN, APPLIED, HIDDEN, ANON],
        ),
        // --- Passwords, access codes, exports, the audit log, learner sign-in.
        row(
            "POST /api/v1/learners/{id}/password",
            Changes,
            |t| {
                send(
                    Method::POST,
                    paths::LEARNER_PASSWORD_RESET.with([&t.learner]),
                    json!({"password": "Violet-Harbour-Kite-93", "source": "typed"}),
                )
            },
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/learners/{id}/access-codes",
            Reads,
            |t| {
                send(
                    Method::POST,
                    paths::LEARNER_ACCESS_CODES.with([&t.learner]),
                    json!({"purpose": "reveal"}),
                )
            },
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/learners/{id}/parent-code",
            Reads,
            |t| bare(Method::POST, paths::LEARNER_PARENT_CODE.with([&t.learner])),
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "GET /api/v1/learners/{id}/diagnosis",
            Reads,
            |t| bare(Method::GET, paths::LEARNER_DIAGNOSIS.with([&t.learner])),
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/learners/{id}/unlock",
            Reads,
            |t| bare(Method::POST, paths::LEARNER_UNLOCK.with([&t.learner])),
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            // The target learner has no address: a caller who may send is told so.
            "POST /api/v1/learners/{id}/reset-link",
            Reads,
            |t| bare(Method::POST, paths::LEARNER_RESET_LINK.with([&t.learner])),
            [NO_ADDRESS, HIDDEN, NO_ADDRESS, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/classes/{id}/passwords",
            Changes,
            |t| {
                send(
                    Method::POST,
                    paths::CLASS_PASSWORDS.with([&t.class]),
                    json!({"mode": "same", "password": "Violet-Harbour-Kite-93", "source": "typed"}),
                )
            },
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/classes/{id}/access-codes",
            Reads,
            |t| {
                send(
                    Method::POST,
                    paths::CLASS_ACCESS_CODES.with([&t.class]),
                    json!({"purpose": "view"}),
                )
            },
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/classes/{id}/access-codes/export",
            Reads,
            |t| {
                bare(
                    Method::POST,
                    paths::CLASS_ACCESS_CODES_EXPORT.with([&t.class]),
                )
            },
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/school/export",
            Reads,
            |_| {
                send(
                    Method::POST,
                    paths::SCHOOL_EXPORT,
                    json!({"kind": "access_codes", "password": harness::PASSWORD}),
                )
            },
            [FORBIDDEN, FORBIDDEN, OK, OK, ANON],
        ),
        row(
            "GET /api/v1/audit",
            Reads,
            |_| get(paths::AUDIT),
            [OK, OK, OK, OK, ANON],
        ),
        // --- Messages (the matrix's learners have no email address: nothing leaves).
        row(
            "POST /api/v1/messages to a learner",
            Reads,
            |t| {
                send(
                    Method::POST,
                    paths::MESSAGES,
                    json!({"learner_ids": [t.learner], "subject": "Hello",
                           "body": "Sign in: [loginLink]"}),
                )
            },
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/messages to a class",
            Reads,
            |t| {
                send(
                    Method::POST,
                    paths::MESSAGES,
                    json!({"class_id": t.class, "subject": "Hello",
                           "body": "Sign in: [loginLink]"}),
                )
            },
            [OK, HIDDEN, OK, HIDDEN, ANON],
        ),
        row(
            "POST /api/v1/learner/sign-in with a wrong password",
            Reads,
            |_| {
                send(
                    Method::POST,
                    paths::LEARNER_SIGN_IN,
                    json!({"school": "demo", "username": "nobody-at-all",
                           "password": "not-the-password"}),
                )
            },
            [bad_credentials; 5],
        ),
        row(
            "GET /api/v1/learner/me with a staff session",
            Reads,
            |_| get(paths::LEARNER_ME),
            [ANON; 5],
        ),
        row(
            "POST /api/v1/learner/sign-out with a staff session",
            Reads,
            |_| send(Method::POST, paths::LEARNER_SIGN_OUT, json!({})),
            [ANON; 5],
        ),
        row(
            "POST /api/v1/learner/password with a staff session",
            Reads,
            |_| {
                send(
                    Method::POST,
                    paths::LEARNER_PASSWORD,
                    json!({"current_password": harness::PASSWORD,
                           "new_password": "Marmalade-Lighthouse-58"}),
                )
            },
            [ANON; 5],
        ),
    ]
}

// ---------------------------------------------------------------------------------------
// Running the matrix.

struct Matrix<'w> {
    world: &'w World,
    known: Known,
    /// Targets for the cells that only read.
    shared: Targets,
    /// Ids of the demo school's records that each caller may not see.
    demo_hidden: HashMap<Who, Vec<String>>,
    /// The tag of the next fresh targets.
    next_tag: u32,
}

impl<'w> Matrix<'w> {
    async fn new(world: &'w World) -> Matrix<'w> {
        let known = Known::find(world).await;
        let teacher3 = world.teacher3.me().await.unwrap().id;
        let shared = Targets::create(world, known, 0).await;

        // Who may see what, worked out from the lead's view of classes and enrolments.
        let classes = world.lead.classes().await.unwrap();
        let learners = all_learners(&world.lead).await;
        let staff = world.lead.staff().await.unwrap();
        let hidden_from_teacher = |staff_id: StaffId| {
            let taught: BTreeSet<ClassId> = classes
                .iter()
                .filter(|c| c.teachers.iter().any(|t| t.id == staff_id))
                .map(|c| c.id)
                .collect();
            let mut ids: Vec<String> = classes
                .iter()
                .filter(|c| !taught.contains(&c.id))
                .map(|c| c.id.to_string())
                .collect();
            ids.extend(
                learners
                    .iter()
                    .filter(|l| !l.classes.iter().any(|c| taught.contains(c)))
                    .map(|l| l.id.to_string()),
            );
            ids
        };
        let everything: Vec<String> = classes
            .iter()
            .map(|c| c.id.to_string())
            .chain(learners.iter().map(|l| l.id.to_string()))
            .chain(staff.iter().map(|s| s.id.to_string()))
            .collect();
        let demo_hidden = HashMap::from([
            (Who::ClassTeacher, hidden_from_teacher(known.teacher)),
            (Who::OtherTeacher, hidden_from_teacher(teacher3)),
            (Who::Lead, Vec::new()),
            (Who::OtherSchool, everything.clone()),
            (Who::Anonymous, everything),
        ]);
        Matrix {
            world,
            known,
            shared,
            demo_hidden,
            next_tag: 1,
        }
    }

    fn client(&self, who: Who) -> &Client {
        match who {
            Who::ClassTeacher => &self.world.teacher1,
            Who::OtherTeacher => &self.world.teacher3,
            Who::Lead => &self.world.lead,
            Who::OtherSchool => &self.world.other_lead,
            Who::Anonymous => &self.world.anon,
        }
    }

    async fn fresh_session(&self, who: Who) -> Client {
        let anon = &self.world.anon;
        match who {
            Who::ClassTeacher => harness::sign_in(anon, "demo", "teacher1").await,
            Who::OtherTeacher => harness::sign_in(anon, "demo", "teacher3").await,
            Who::Lead => harness::sign_in(anon, "demo", "lead").await,
            Who::OtherSchool => harness::sign_in(anon, "other", "lead").await,
            Who::Anonymous => anon.clone(),
        }
    }

    /// Both schools, as their lead teachers see the records a cell could touch: the target
    /// classes and any class created with the cell's id, the cell's learners (found by their
    /// tag, so new ones count too), and all of the small other school.
    async fn schools(&self, t: &Targets) -> (Vec<(u16, Vec<u8>)>, Vec<(u16, Vec<u8>)>) {
        let mut demo = Vec::new();
        for class in [t.class, t.spare, t.elsewhere, t.new_class] {
            demo.push(call(&self.world.lead, &get(paths::CLASS.with([&class]))).await);
        }
        let tagged = format!("{}?q=mx{}x&limit=500", paths::LEARNERS, t.tag);
        demo.push(call(&self.world.lead, &get(tagged)).await);
        let mut other = Vec::new();
        for path in [
            paths::CLASSES.to_owned(),
            format!("{}?limit=500", paths::LEARNERS),
            paths::CLASS.with([&t.new_class]),
        ] {
            other.push(call(&self.world.other_lead, &get(path)).await);
        }
        (demo, other)
    }

    /// Runs one cell and adds what is wrong with it to `wrong`.
    async fn check(&mut self, row: &Row, who: Who, want: Want, wrong: &mut Vec<String>) {
        let cell = format!("{} × {who}", row.what);
        let targets = match row.effect {
            Effect::Changes => {
                self.next_tag += 1;
                let t = Targets::create(self.world, self.known, self.next_tag).await;
                if let Some(prepare) = row.prepare {
                    lead_push(self.world, vec![prepare(&t)]).await;
                }
                t
            }
            _ => self.shared.clone(),
        };
        let client = match row.effect {
            Effect::SignsOut => self.fresh_session(who).await,
            _ => self.client(who).clone(),
        };
        let before = match row.effect {
            Effect::Changes => Some(self.schools(&targets).await),
            _ => None,
        };

        let request = (row.request)(&targets);
        let is_push = request.path == paths::SYNC_PUSH;
        let (status, body) = call(&client, &request).await;
        let got = match observe(is_push, status, &body) {
            Ok(got) => got,
            Err(why) => {
                wrong.push(format!("{cell}: {why}"));
                return;
            }
        };
        if got != want {
            wrong.push(format!(
                "{cell}: expected {}, got {} — {}",
                show(want, is_push),
                show(got, is_push),
                snippet(&body)
            ));
        }

        // Nothing the caller may not see shows up in any answer, refusals included.
        let text = String::from_utf8_lossy(&body);
        let target_hidden = targets.hidden_from(who);
        for id in self.demo_hidden[&who].iter().chain(&target_hidden) {
            if text.contains(id.as_str()) {
                wrong.push(format!(
                    "{cell}: the answer holds the id {id}, which the caller may not see"
                ));
            }
        }

        if let (Effect::Lists(ids), Want::Done(_)) = (row.effect, got) {
            if request.path.starts_with(paths::SYNC_CHANGES) && text.contains("\"more\":true") {
                wrong.push(format!("{cell}: the pull did not fit one page"));
            }
            for id in ids(&targets) {
                let shown = text.contains(id.as_str());
                if shown != who.sees_targets() {
                    wrong.push(format!(
                        "{cell}: the list {} {id}",
                        if shown {
                            "shows the hidden record"
                        } else {
                            "leaves out the visible record"
                        }
                    ));
                }
            }
        }

        if let Some((demo_before, other_before)) = before {
            let (demo_after, other_after) = self.schools(&targets).await;
            let done = matches!(got, Want::Done(_));
            let demo_changed = demo_before != demo_after;
            let other_changed = other_before != other_after;
            if demo_changed != (done && who.in_demo_school()) {
                wrong.push(format!(
                    "{cell}: answered {} but the demo school {}",
                    show(got, is_push),
                    if demo_changed {
                        "changed"
                    } else {
                        "did not change"
                    }
                ));
            }
            if other_changed != (done && who == Who::OtherSchool) {
                wrong.push(format!(
                    "{cell}: answered {} but the other school {}",
                    show(got, is_push),
                    if other_changed {
                        "changed"
                    } else {
                        "did not change"
                    }
                ));
            }
        }

        // A hidden record's "not found" must be exactly a made-up id's.
        if got == HIDDEN && who != Who::Anonymous {
            let ghost = (row.request)(&targets.ghost(who));
            let (ghost_status, ghost_body) = call(&client, &ghost).await;
            let same = if is_push {
                ghost_status == status && push_error(&ghost_body) == push_error(&body)
            } else {
                ghost_status == status && ghost_body == body
            };
            if !same {
                wrong.push(format!(
                    "{cell}: the refusal differs from the one for a made-up id: {} {} vs {} {}",
                    status,
                    snippet(&body),
                    ghost_status,
                    snippet(&ghost_body)
                ));
            }
        }

        if let (Effect::SignsOut, Want::Done(_)) = (row.effect, got) {
            if client.me().await.is_ok() {
                wrong.push(format!("{cell}: the session still works after signing out"));
            }
            if self.client(who).me().await.is_err() {
                wrong.push(format!(
                    "{cell}: signing out one session ended the caller's other session"
                ));
            }
        }
    }
}

async fn call(client: &Client, request: &Req) -> (u16, Vec<u8>) {
    let body = request
        .body
        .as_ref()
        .map(|b| serde_json::to_vec(b).unwrap());
    let content_type = body.as_ref().map(|_| "application/json");
    client
        .raw(request.method.clone(), &request.path, content_type, body)
        .await
        .unwrap_or_else(|e| panic!("{} {}: {e}", request.method, request.path))
}

/// What a response says, as a [`Want`]; `Err` for an answer that is malformed in itself.
fn observe(is_push: bool, status: u16, body: &[u8]) -> Result<Want, String> {
    if is_push && status == 200 {
        let response: PushResponse = serde_json::from_slice(body)
            .map_err(|e| format!("unreadable push answer ({e}): {}", snippet(body)))?;
        return match &response.results[..] {
            [one] => match &one.outcome {
                Outcome::Applied { .. } => Ok(Want::Done(200)),
                Outcome::Rejected { error } => Ok(Want::Refused(error.code)),
                Outcome::Conflict { .. } => Err(format!("unexpected conflict: {}", snippet(body))),
            },
            other => Err(format!("{} results for one operation", other.len())),
        };
    }
    if (200..300).contains(&status) {
        return Ok(Want::Done(status));
    }
    let error: ErrorBody = serde_json::from_slice(body).map_err(|e| {
        format!(
            "status {status} without an error body ({e}): {}",
            snippet(body)
        )
    })?;
    if error.code.http_status() != status {
        return Err(format!(
            "status {status} does not go with code {}",
            code_name(error.code)
        ));
    }
    Ok(Want::Refused(error.code))
}

/// The error of a one-operation push answer, without the operation id (which differs).
fn push_error(body: &[u8]) -> Option<Value> {
    let mut response: Value = serde_json::from_slice(body).ok()?;
    let mut result = response.get_mut("results")?.get_mut(0)?.take();
    result.as_object_mut()?.remove("id");
    Some(result)
}

fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(300).collect()
}

async fn every_endpoint_answers_each_kind_of_caller_as_the_policy_says(backend: Backend) {
    let world = World::start(backend).await;
    let mut matrix = Matrix::new(&world).await;
    let rows = rows();
    let mut wrong = Vec::new();
    let mut cells = 0;
    // Reads first, so the shared targets and the full pull meet an unchanged school.
    let (reads, changes): (Vec<&Row>, Vec<&Row>) = rows
        .iter()
        .partition(|r| !matches!(r.effect, Effect::Changes | Effect::SignsOut));
    for row in reads.into_iter().chain(changes) {
        for (who, want) in EVERYONE.into_iter().zip(row.want) {
            matrix.check(row, who, want, &mut wrong).await;
            cells += 1;
        }
    }
    world.stop().await;
    assert!(
        wrong.is_empty(),
        "{} problem(s) in {cells} cells of the authorization matrix on {backend}:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// Lists and sync hold exactly a teacher's learners.

/// Every learner `client` finds by listing, page by page.
async fn all_learners(client: &Client) -> Vec<LearnerRecord> {
    let mut found = Vec::new();
    loop {
        let page = client
            .learners(&LearnerQuery {
                offset: Some(u32::try_from(found.len()).unwrap()),
                limit: Some(500),
                ..Default::default()
            })
            .await
            .unwrap();
        let done = page.items.is_empty();
        found.extend(page.items);
        if done || i64::try_from(found.len()).unwrap() >= page.total {
            return found;
        }
    }
}

/// Pulls every page after `cursor` and returns the changes and the last cursor.
async fn pull(client: &Client, cursor: Option<String>) -> (Vec<Change>, String) {
    let mut changes = Vec::new();
    let mut cursor = cursor;
    loop {
        let page = client
            .sync_pull(&PullQuery {
                cursor: cursor.clone(),
                limit: Some(200),
            })
            .await
            .unwrap();
        changes.extend(page.changes);
        cursor = Some(page.cursor);
        if !page.more {
            return (changes, cursor.unwrap_or_default());
        }
    }
}

/// A replica as the desktop app keeps it: records by id, changes applied in order.
#[derive(Default)]
struct Replica {
    classes: BTreeMap<ClassId, ClassRecord>,
    learners: BTreeMap<LearnerId, LearnerRecord>,
    staff: usize,
}

impl Replica {
    fn apply(&mut self, changes: Vec<Change>) {
        for change in changes {
            match change {
                Change::Upsert {
                    record: Record::Class(c),
                } => {
                    self.classes.insert(c.id, c);
                }
                Change::Upsert {
                    record: Record::Learner(l),
                } => {
                    self.learners.insert(l.id, l);
                }
                Change::Upsert {
                    record: Record::Staff(_),
                } => self.staff += 1,
                Change::Remove { id, .. } => {
                    self.classes.remove(&ClassId(id));
                    self.learners.remove(&LearnerId(id));
                }
            }
        }
    }
}

async fn a_teacher_finds_exactly_their_classes_learners_by_search_and_by_sync(backend: Backend) {
    let world = World::start(backend).await;
    let lead = &world.lead;
    let class_id = |name: &'static str| async move { harness::class(lead, name).await.id };
    let kestrels = class_id("5 Kestrels").await;
    let herons = class_id("6 Herons").await;
    let badgers = class_id("3 Badgers").await;
    let foxes = class_id("2 Foxes").await;
    let four_b = class_id("4B").await;
    let members = |class: ClassId| async move {
        lead.learners(&LearnerQuery {
            class_id: Some(class),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
    };

    // Learners in teacher3's classes and others at once, before teacher3's first sync.
    let from_badgers = members(badgers).await[0].id;
    let also_in_4b = members(kestrels).await[1].id;
    lead.learner_enrol(from_badgers, kestrels).await.unwrap();
    lead.learner_enrol(also_in_4b, four_b).await.unwrap();

    let mut replica = Replica::default();
    let (first, cursor) = pull(&world.teacher3, None).await;
    replica.apply(first);

    // Changes after it: one leaves teacher3's classes, one is added elsewhere, one joins.
    let leaving = members(herons).await[0].id;
    lead.learner_move(
        leaving,
        &LearnerMove {
            from: herons,
            to: four_b,
            base_version: None,
        },
    )
    .await
    .unwrap();
    lead.learner_unenrol(from_badgers, kestrels).await.unwrap();
    for (username, class) in [("mx-new-fox", foxes), ("mx-new-heron", herons)] {
        lead.learner_create(&NewLearner {
            id: None,
            given_name: "New".into(),
            family_name: "Arrival".into(),
            username: Some(username.into()),
            email: None,
            classes: vec![class],
        })
        .await
        .unwrap();
    }
    let (later, _) = pull(&world.teacher3, Some(cursor)).await;
    replica.apply(later);

    // What teacher3 should see, by the lead's view of the two classes.
    let theirs = BTreeSet::from([kestrels, herons]);
    let mut expected: BTreeMap<LearnerId, Vec<ClassId>> = BTreeMap::new();
    let all = all_learners(lead).await;
    let usernames: HashMap<LearnerId, String> =
        all.iter().map(|l| (l.id, l.username.clone())).collect();
    for learner in &all {
        let classes: Vec<ClassId> = learner
            .classes
            .iter()
            .copied()
            .filter(|c| theirs.contains(c))
            .collect();
        if !classes.is_empty() {
            expected.insert(learner.id, classes);
        }
    }
    assert!(expected.contains_key(&also_in_4b) && !expected.contains_key(&leaving));

    let searched = all_learners(&world.teacher3).await;
    let mut fresh = Replica::default();
    fresh.apply(pull(&world.teacher3, None).await.0);

    let mut wrong = Vec::new();
    let mut compare = |source: &str, seen: Vec<&LearnerRecord>| {
        let seen: BTreeMap<LearnerId, Vec<ClassId>> = seen
            .into_iter()
            .map(|l| {
                let mut classes = l.classes.clone();
                classes.sort();
                (l.id, classes)
            })
            .collect();
        let name = |id: &LearnerId| usernames.get(id).cloned().unwrap_or_else(|| id.to_string());
        for id in seen.keys().filter(|id| !expected.contains_key(id)) {
            wrong.push(format!("{source} shows {}, not in their classes", name(id)));
        }
        for id in expected.keys().filter(|id| !seen.contains_key(id)) {
            wrong.push(format!("{source} leaves out {}", name(id)));
        }
        for (id, classes) in &seen {
            let Some(want) = expected.get(id) else {
                continue;
            };
            let mut want = want.clone();
            want.sort();
            if want != *classes {
                wrong.push(format!(
                    "{source} shows {} in classes {classes:?}, expected {want:?}",
                    name(id)
                ));
            }
        }
    };
    compare("search", searched.iter().collect());
    compare("a full pull", fresh.learners.values().collect());
    compare("the synced replica", replica.learners.values().collect());
    let union: BTreeMap<LearnerId, &LearnerRecord> = searched
        .iter()
        .chain(fresh.learners.values())
        .map(|l| (l.id, l))
        .collect();
    compare(
        "search and full pull together",
        union.into_values().collect(),
    );

    let listed: BTreeSet<ClassId> = world
        .teacher3
        .classes()
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    for (source, classes) in [
        ("the class list", listed),
        ("a full pull", fresh.classes.keys().copied().collect()),
        (
            "the synced replica",
            replica.classes.keys().copied().collect(),
        ),
    ] {
        if classes != theirs {
            wrong.push(format!(
                "{source} holds classes {classes:?}, expected {theirs:?}"
            ));
        }
    }
    if fresh.staff + replica.staff > 0 {
        wrong.push("a teacher's pull carries staff records".into());
    }
    world.stop().await;
    assert!(
        wrong.is_empty(),
        "teacher3 on {backend} sees other than their classes' learners:\n{}",
        wrong.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// Conflicts about hidden accounts.

/// Usernames and email addresses are unique within the school, so "taken" is an answer a
/// teacher must get even for a learner of another class. But the answer may name the account
/// (as DESIGN §3 asks) only to a caller who may see it: naming it to anyone else hands out a
/// hidden learner's name, username and status.
async fn a_username_or_email_clash_names_only_accounts_the_caller_may_see(backend: Backend) {
    let world = World::start(backend).await;
    let owls = harness::class(&world.teacher1, "1 Owls").await.id;
    // Александр Петров is in 5 Kestrels and Tobias Becker (deactivated, with an email
    // address) in 6 Herons, both teacher3's; Zoë Adams is in teacher1's Reception Robins.
    let kestrel = harness::learner(&world.lead, "aleksandr.petrov").await;
    let heron = harness::learner(&world.lead, "tobias.becker").await;
    let robin = harness::learner(&world.lead, "zoe.adams").await;
    let heron_email = heron
        .email
        .clone()
        .expect("the demo gives Tobias an email address");

    let mut wrong = Vec::new();
    let cases = [
        (
            &world.teacher1,
            "teacher1",
            &kestrel,
            Some(kestrel.username.clone()),
            None,
            false,
        ),
        (
            &world.teacher1,
            "teacher1",
            &heron,
            None,
            Some(heron_email.clone()),
            false,
        ),
        (
            &world.teacher1,
            "teacher1",
            &robin,
            Some(robin.username.clone()),
            None,
            true,
        ),
        (
            &world.lead,
            "the lead",
            &kestrel,
            Some(kestrel.username.clone()),
            None,
            true,
        ),
        (
            &world.lead,
            "the lead",
            &heron,
            None,
            Some(heron_email.clone()),
            true,
        ),
    ];
    for (client, caller, holder, username, email, may_see) in cases {
        let clash = if username.is_some() {
            "username"
        } else {
            "email"
        };
        let answer = client
            .learner_create(&NewLearner {
                id: None,
                given_name: "Clash".into(),
                family_name: "Probe".into(),
                username,
                email,
                classes: vec![owls],
            })
            .await;
        let body = match answer {
            Err(classkeys_client::Error::Api { status: 409, body }) => body,
            other => {
                wrong.push(format!(
                    "{caller}, {clash} of {}: expected 409, got {other:?}",
                    holder.username
                ));
                continue;
            }
        };
        let want_code = if clash == "username" {
            ErrorCode::UsernameTaken
        } else {
            ErrorCode::EmailTaken
        };
        if body.code != want_code {
            wrong.push(format!("{caller}, {clash}: got code {:?}", body.code));
        }
        let named = body.message.contains(&holder.given_name)
            || body.message.contains(&holder.family_name)
            || (clash == "email" && body.message.contains(&holder.username));
        if named != may_see {
            wrong.push(format!(
                "{caller}, {clash} of {} ({}): the message {} the account: {:?}",
                holder.username,
                if may_see { "may see" } else { "may not see" },
                if named { "names" } else { "does not name" },
                body.message
            ));
        }
    }
    world.stop().await;
    assert!(
        wrong.is_empty(),
        "clash messages on {backend} name accounts wrongly:\n{}",
        wrong.join("\n")
    );
}
