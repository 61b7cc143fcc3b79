//! Parents' "how to sign in" sheets from the API: a page per learner naming them and their
//! username, never a password; only for learners the caller may see.

use classkeys_domain::generator::PasswordStyle;
use classkeys_protocol::ErrorCode;
use classkeys_protocol::roster::InstructionsQuery;
use classkeys_server::Backend;

use crate::harness::{self, World, active_learners, learner_with_password};
use crate::on_both_backends;

on_both_backends!(
    a_learners_sheet_names_them_and_their_username_and_never_their_password,
    a_class_gets_a_page_per_active_learner_and_outsiders_get_nothing,
);

/// The text of a PDF, page by page (pdftotext, from poppler-utils).
fn pages(pdf: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sheet.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
    pages.retain(|p| !p.trim().is_empty());
    pages
}

async fn a_learners_sheet_names_them_and_their_username_and_never_their_password(backend: Backend) {
    let world = World::start(backend).await;
    let (learner, password) =
        learner_with_password(&world.teacher1, "1 Owls", PasswordStyle::Words).await;
    let pdf = world
        .teacher1
        .instructions_pdf(&InstructionsQuery {
            learner_id: Some(learner.id),
            paper: Some("letter".into()),
            ..InstructionsQuery::default()
        })
        .await
        .unwrap();
    let pages = pages(&pdf);
    assert_eq!(pages.len(), 1);
    let page = &pages[0];
    for expected in [
        "How to sign in",
        learner.username.as_str(),
        learner.given_name.as_str(),
        "/s/demo/sign-in",
        "Forgot the password?",
    ] {
        assert!(page.contains(expected), "{expected:?} on the page: {page}");
    }
    assert!(!page.contains(&password), "no password on a parents' sheet");
    world.stop().await;
}

async fn a_class_gets_a_page_per_active_learner_and_outsiders_get_nothing(backend: Backend) {
    let world = World::start(backend).await;
    let owls = harness::class(&world.teacher1, "1 Owls").await;
    let learners = active_learners(&world.teacher1, "1 Owls").await;
    let query = InstructionsQuery {
        class_id: Some(owls.id),
        ..InstructionsQuery::default()
    };
    let pdf = world.teacher1.instructions_pdf(&query).await.unwrap();
    let pages = pages(&pdf);
    assert_eq!(pages.len(), learners.len());
    for learner in &learners {
        assert_eq!(
            pages
                .iter()
                .filter(|p| p.contains(&learner.username))
                .count(),
            1,
            "one page names {}",
            learner.username
        );
    }
    for outsider in [&world.teacher2, &world.other_lead] {
        let refused = outsider.instructions_pdf(&query).await;
        assert_eq!(
            refused.err().and_then(|e| e.code()),
            Some(ErrorCode::NotFound)
        );
    }
    let both = world
        .teacher1
        .instructions_pdf(&InstructionsQuery {
            learner_id: Some(learners[0].id),
            ..query.clone()
        })
        .await;
    assert_eq!(
        both.err().and_then(|e| e.code()),
        Some(ErrorCode::InvalidInput)
    );
    let paper = world
        .teacher1
        .instructions_pdf(&InstructionsQuery {
            paper: Some("A5".into()),
            ..query
        })
        .await;
    assert_eq!(
        paper.err().and_then(|e| e.code()),
        Some(ErrorCode::InvalidInput)
    );
    world.stop().await;
}
