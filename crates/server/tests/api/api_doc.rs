//! The published API description and the API's edges: unknown routes, deadlines.

use classkeys_client::HttpMethod;
use classkeys_server::Backend;

use crate::harness::World;
use crate::on_both_backends;

on_both_backends!(
    openapi_document_covers_every_endpoint,
    unknown_paths_and_methods_answer_with_the_error_body
);

/// Every endpoint the server routes, as (method, OpenAPI path).
const ENDPOINTS: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("post", "/api/v1/auth/sign-in"),
    ("post", "/api/v1/auth/sign-out"),
    ("get", "/api/v1/auth/me"),
    ("get", "/api/v1/classes"),
    ("post", "/api/v1/classes"),
    ("get", "/api/v1/classes/{id}"),
    ("patch", "/api/v1/classes/{id}"),
    ("delete", "/api/v1/classes/{id}"),
    ("put", "/api/v1/classes/{id}/teachers/{staff_id}"),
    ("delete", "/api/v1/classes/{id}/teachers/{staff_id}"),
    ("get", "/api/v1/learners"),
    ("post", "/api/v1/learners"),
    ("get", "/api/v1/learners/{id}"),
    ("patch", "/api/v1/learners/{id}"),
    ("post", "/api/v1/learners/{id}/enrolments"),
    ("delete", "/api/v1/learners/{id}/enrolments/{class_id}"),
    ("post", "/api/v1/learners/{id}/move"),
    ("post", "/api/v1/learners/{id}/deactivate"),
    ("post", "/api/v1/learners/{id}/reactivate"),
    ("get", "/api/v1/staff"),
    ("get", "/api/v1/sync/changes"),
    ("post", "/api/v1/sync/push"),
    ("post", "/api/v1/learners/{id}/password"),
    ("post", "/api/v1/learners/{id}/access-codes"),
    ("post", "/api/v1/learners/{id}/parent-code"),
    ("post", "/api/v1/classes/{id}/passwords"),
    ("post", "/api/v1/classes/{id}/access-codes"),
    ("post", "/api/v1/classes/{id}/access-codes/export"),
    ("post", "/api/v1/school/export"),
    ("get", "/api/v1/audit"),
    ("post", "/api/v1/learner/sign-in"),
    ("get", "/api/v1/learner/me"),
    ("post", "/api/v1/learner/sign-out"),
    ("post", "/api/v1/learner/password"),
    ("post", "/api/v1/messages"),
    ("get", "/api/v1/messages/{id}"),
    ("get", "/api/v1/instructions"),
    ("post", "/api/v1/imports/preview"),
    ("post", "/api/v1/imports/{id}/apply"),
    ("get", "/api/v1/learners/{id}/diagnosis"),
    ("post", "/api/v1/learners/{id}/email/move"),
    ("get", "/api/v1/learners/duplicates"),
    ("post", "/api/v1/learners/{id}/unlock"),
    ("post", "/api/v1/learners/{id}/reset-link"),
];

async fn openapi_document_covers_every_endpoint(backend: Backend) {
    let world = World::start(backend).await;
    let (status, body) = world
        .anon
        .raw(HttpMethod::GET, "/api/openapi.json", None, None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    documented.sort();
    let mut expected: Vec<(String, String)> = ENDPOINTS
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);
    // Every documented endpoint is routed: none answers "no such API endpoint".
    for (method, path) in ENDPOINTS {
        let concrete = path
            .replace("{id}", "01a20000-0000-7000-8000-000000000000")
            .replace("{staff_id}", "01a20000-0000-7000-8000-000000000001")
            .replace("{class_id}", "01a20000-0000-7000-8000-000000000002");
        let method = HttpMethod::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let (_, body) = world.lead.raw(method, &concrete, None, None).await.unwrap();
        assert!(
            !String::from_utf8_lossy(&body).contains("no such API endpoint"),
            "{path} is documented but not routed"
        );
    }
    // The error body is a documented schema with the closed set of codes.
    let codes = &doc["components"]["schemas"]["ErrorCode"]["enum"];
    assert!(codes.as_array().unwrap().len() >= 10, "{codes}");
    world.stop().await;
}

async fn unknown_paths_and_methods_answer_with_the_error_body(backend: Backend) {
    let world = World::start(backend).await;
    let (status, body) = world
        .lead
        .raw(HttpMethod::GET, "/api/v1/nothing-here", None, None)
        .await
        .unwrap();
    assert_eq!(status, 404);
    let body: classkeys_protocol::ErrorBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(body.code, classkeys_protocol::ErrorCode::NotFound);
    let (status, body) = world
        .lead
        .raw(HttpMethod::PUT, "/api/v1/classes", None, None)
        .await
        .unwrap();
    assert_eq!(status, 405);
    let body: classkeys_protocol::ErrorBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(body.code, classkeys_protocol::ErrorCode::BadRequest);
    let (status, _) = world
        .lead
        .raw(HttpMethod::GET, "/api/v1/classes/not-a-uuid", None, None)
        .await
        .unwrap();
    assert_eq!(status, 404);
    world.stop().await;
}

on_both_backends!(a_request_that_takes_too_long_is_answered_with_timeout);

async fn a_request_that_takes_too_long_is_answered_with_timeout(backend: Backend) {
    // A deadline a sign-in cannot meet (password hashing alone takes tens of milliseconds):
    // the request is cut off, and the client still gets the API's error body rather than a
    // connection held open or dropped.
    let settings = classkeys_server::Settings {
        request_timeout: std::time::Duration::from_millis(1),
        ..Default::default()
    };
    let server = classkeys_testsupport::TestServer::start_with(backend, settings).await;
    let anon = classkeys_client::Client::new(&server.url).unwrap();
    let sign_in = br#"{"username": "nobody", "password": "a-password-to-hash"}"#;
    let (status, body) = anon
        .raw(
            HttpMethod::POST,
            "/api/v1/auth/sign-in",
            Some("application/json"),
            Some(sign_in.to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(status, 503);
    let body: classkeys_protocol::ErrorBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(body.code, classkeys_protocol::ErrorCode::Timeout);
    server.stop().await;
}
