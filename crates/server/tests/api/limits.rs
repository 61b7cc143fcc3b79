//! Bounded work under floods: slow and idle connections are closed, connections past the
//! cap wait their turn, and a flood of learner sign-ins is turned away with 503 and
//! `Retry-After` (never left hanging) while a teacher's class reset goes through.

use std::time::Duration;

use classkeys_domain::generator::PasswordStyle;
use classkeys_protocol::credentials::ClassPasswordReset;
use classkeys_server::{Backend, Settings};
use classkeys_testsupport::{TestServer, eventually};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{self, World, active_learners, new_passwords};
use crate::on_both_backends;

on_both_backends!(a_flood_of_learner_sign_ins_is_turned_away_while_a_teacher_resets_a_class);

/// Reads until the server closes the connection, and returns what it sent; fails the test if
/// it is still open after `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Vec<u8> {
    let mut received = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection")
        .ok();
    received
}

const HEALTH_REQUEST: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed_after_the_header_read_timeout() {
    let server = TestServer::start_with(
        Backend::Sqlite,
        Settings {
            header_read_timeout: Duration::from_millis(500),
            ..Settings::default()
        },
    )
    .await;
    // Connected, never a byte sent.
    let mut silent = TcpStream::connect(server.addr()).await.unwrap();
    assert!(
        read_until_closed(&mut silent, Duration::from_secs(10))
            .await
            .is_empty()
    );

    // Headers trickled and never finished.
    let mut trickle = TcpStream::connect(server.addr()).await.unwrap();
    trickle
        .write_all(b"GET /healthz HTTP/1.1\r\nHo")
        .await
        .unwrap();
    read_until_closed(&mut trickle, Duration::from_secs(10)).await;

    // Kept alive after an answer, then idle.
    let mut idle = TcpStream::connect(server.addr()).await.unwrap();
    idle.write_all(HEALTH_REQUEST).await.unwrap();
    let answer = read_until_closed(&mut idle, Duration::from_secs(10)).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    eventually("every closed connection is let go", async || {
        match server.open_connections() {
            0 => Ok(()),
            open => Err(open),
        }
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_wait_until_one_closes() {
    let server = TestServer::start_with(
        Backend::Sqlite,
        Settings {
            max_connections: 3,
            ..Settings::default()
        },
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(server.addr()).await.unwrap());
    }
    eventually(
        "the server serves three connections",
        async || match server.open_connections() {
            3 => Ok(()),
            open => Err(open),
        },
    )
    .await;

    let mut fourth = TcpStream::connect(server.addr()).await.unwrap();
    fourth.write_all(HEALTH_REQUEST).await.unwrap();
    let mut first = [0u8; 12];
    // While three are held, the fourth is not served: on loopback an answer would take
    // well under this window.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), fourth.read_exact(&mut first))
            .await
            .is_err(),
        "a connection past the cap was served"
    );
    assert_eq!(server.open_connections(), 3);
    drop(held.pop());
    tokio::time::timeout(Duration::from_secs(10), fourth.read_exact(&mut first))
        .await
        .expect("served once a connection closed")
        .unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    server.stop().await;
}

async fn a_flood_of_learner_sign_ins_is_turned_away_while_a_teacher_resets_a_class(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let class = harness::class(&world.teacher1, "1 Owls").await;
    let learners = active_learners(&world.teacher1, "1 Owls").await;
    let passwords = new_passwords(&learners, PasswordStyle::Words);

    let body = |i: usize| {
        serde_json::json!({
            "school": "demo",
            "username": format!("nobody-{i}"),
            "password": "123456",
        })
    };
    let flood: Vec<_> = (0..300)
        .map(|i| {
            let anon = world.anon.clone();
            let body = body(i);
            tokio::spawn(async move {
                anon.raw_with_headers(
                    classkeys_client::HttpMethod::POST,
                    classkeys_protocol::paths::LEARNER_SIGN_IN,
                    Some("application/json"),
                    Some(body.to_string().into_bytes()),
                )
                .await
            })
        })
        .collect();
    let reset = world
        .teacher1
        .class_passwords_reset(
            class.id,
            &ClassPasswordReset::Individual {
                passwords,
                must_change: false,
            },
        )
        .await;
    assert!(reset.is_ok(), "the reset goes through: {reset:?}");

    let (mut refused, mut busy) = (0, 0);
    for answer in flood {
        let (status, headers, body) = tokio::time::timeout(Duration::from_secs(60), answer)
            .await
            .expect("every sign-in is answered, none hangs")
            .unwrap()
            .unwrap();
        match status {
            401 => refused += 1,
            429 | 503 => {
                busy += 1;
                let wait = headers.get("retry-after").expect("Retry-After says when");
                assert!(wait.to_str().unwrap().parse::<u32>().unwrap() > 0);
            }
            other => panic!("{other}: {}", String::from_utf8_lossy(&body)),
        }
    }
    assert_eq!(refused + busy, 300);
    assert!(busy > 0, "a flood this size is turned away in part");
    world.stop().await;
}
